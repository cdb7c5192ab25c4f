// Package clamd asks a running ClamAV daemon for its VERSION and STATS and
// parses the replies. It holds no Prometheus types.
package clamd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// maxReply bounds what is read from clamd: STATS lists one line per queued
// job, and a daemon that never stops talking must not fill our memory.
const maxReply = 1 << 20

// Address is where clamd listens.
type Address struct {
	Network string // "unix" or "tcp"
	Addr    string // socket path or host:port
}

func (a Address) String() string { return a.Network + "://" + a.Addr }

// ParseAddress reads "unix:///run/clamav/clamd.ctl" or
// "tcp://127.0.0.1:3310".
func ParseAddress(s string) (Address, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Address{}, fmt.Errorf("%q is not an address: %v", s, err)
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || !filepath.IsAbs(u.Path) {
			return Address{}, fmt.Errorf("%q: want unix:///absolute/path/to/socket", s)
		}
		return Address{Network: "unix", Addr: u.Path}, nil
	case "tcp":
		if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" || u.Path != "" {
			return Address{}, fmt.Errorf("%q: want tcp://host:port", s)
		}
		return Address{Network: "tcp", Addr: u.Host}, nil
	}
	return Address{}, fmt.Errorf("%q: the scheme must be unix:// or tcp://", s)
}

// Command sends one command to clamd and returns its reply. The command
// goes with the "z" prefix (NUL-terminated), so the reply ends in a NUL
// too and a reply cut short is told from a whole one. ctx bounds the
// whole exchange.
func Command(ctx context.Context, addr Address, cmd string) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, addr.Network, addr.Addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := conn.Write([]byte("z" + cmd + "\x00")); err != nil {
		return nil, fmt.Errorf("sending %s: %w", cmd, err)
	}
	reply, err := io.ReadAll(io.LimitReader(conn, maxReply+1))
	if err != nil {
		return nil, fmt.Errorf("reading the %s reply: %w", cmd, err)
	}
	end := bytes.IndexByte(reply, 0)
	switch {
	case end >= 0:
		return reply[:end], nil
	case len(reply) > maxReply:
		return nil, replyError("%s reply is longer than %d bytes", cmd, maxReply)
	}
	return nil, replyError("%s reply ends without its terminating NUL after %d bytes", cmd, len(reply))
}

// Version asks clamd for VERSION; dates are read in loc (see ParseVersion).
func Version(ctx context.Context, addr Address, loc *time.Location) (VersionReply, error) {
	b, err := Command(ctx, addr, "VERSION")
	if err != nil {
		return VersionReply{}, err
	}
	return ParseVersion(string(b), loc)
}

// Stats asks clamd for STATS.
func Stats(ctx context.Context, addr Address) (StatsReply, error) {
	b, err := Command(ctx, addr, "STATS")
	if err != nil {
		return StatsReply{}, err
	}
	return ParseStats(string(b))
}

// ErrReply is wrapped by every error about what clamd answered (as opposed
// to not answering at all).
var ErrReply = errors.New("unexpected clamd reply")

func replyError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrReply, fmt.Sprintf(format, args...))
}

// trimReply cuts a trailing newline and the "z"-mode NUL.
func trimReply(s string) string {
	return strings.TrimRight(s, "\x00\n")
}
