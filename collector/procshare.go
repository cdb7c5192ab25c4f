package collector

import (
	"sync"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/proctrack"
)

// procShare hands the process names of the services poller's last pass
// over /proc to the inventory collector of the same Set, so that /proc is
// read once per poll for both. It lives as long as its Set.
type procShare struct {
	mu    sync.Mutex
	names []string
	at    time.Time
}

func (s *procShare) publish(snap *proctrack.Snapshot, at time.Time) {
	if s == nil {
		return
	}
	names := snap.Names()
	s.mu.Lock()
	s.names, s.at = names, at
	s.mu.Unlock()
}

// latest returns the names of a pass not older than maxAge.
func (s *procShare) latest(maxAge time.Duration, now time.Time) ([]string, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() || now.Sub(s.at) > maxAge {
		return nil, false
	}
	return s.names, true
}
