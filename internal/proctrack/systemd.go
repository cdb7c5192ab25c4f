package proctrack

import (
	"context"
	"fmt"
	"strings"

	"github.com/coreos/go-systemd/v22/dbus"
)

// UnitState is what systemd says about a unit.
type UnitState struct {
	ActiveState string // active, reloading, inactive, failed, activating, deactivating
	NRestarts   uint32 // automatic restarts (Restart=); services only
	HasRestarts bool
}

// UnitStates lists the values ActiveState takes.
var UnitStates = []string{"active", "activating", "deactivating", "failed", "inactive", "reloading"}

// Systemd asks systemd over the system bus. The connection is made on
// first use and again after it broke.
type Systemd struct {
	conn *dbus.Conn
}

// Query returns the state of each unit. An error means the bus could not
// be reached; the caller treats that as "no systemd here".
func (s *Systemd) Query(ctx context.Context, units []string) (map[string]UnitState, error) {
	if s.conn != nil && !s.conn.Connected() {
		s.Close()
	}
	if s.conn == nil {
		conn, err := dbus.NewSystemConnectionContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("system bus: %w", err)
		}
		s.conn = conn
	}
	out := make(map[string]UnitState, len(units))
	for _, u := range units {
		p, err := s.conn.GetUnitPropertyContext(ctx, u, "ActiveState")
		if err != nil {
			return nil, fmt.Errorf("unit %s: %w", u, err)
		}
		st := UnitState{ActiveState: strings.Trim(p.Value.String(), `"`)}
		if strings.HasSuffix(u, ".service") {
			if r, err := s.conn.GetUnitTypePropertyContext(ctx, u, "Service", "NRestarts"); err == nil {
				if n, ok := r.Value.Value().(uint32); ok {
					st.NRestarts, st.HasRestarts = n, true
				}
			}
		}
		out[u] = st
	}
	return out, nil
}

// Close drops the connection.
func (s *Systemd) Close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}
