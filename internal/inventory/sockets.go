package inventory

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Listener is one listening socket: only its local port and whether it is
// bound to loopback. Remote ends and connections are never kept.
type Listener struct {
	Port     uint16
	Loopback bool
}

// Socket states of /proc/net/{tcp,udp}[6] (include/net/tcp_states.h).
const (
	tcpListen = 0x0A
	udpClose  = 0x07 // an unconnected UDP socket: what "listening" means for UDP
)

// maxSocketLines bounds a /proc/net table read: a host with more sockets
// than this is reported on the first ones only.
const maxSocketLines = 1 << 18

// ParseSockets reads a /proc/net/tcp, tcp6, udp or udp6 table and returns
// its listening sockets (TCP LISTEN; UDP unconnected, remote port 0). A
// line that does not parse is an error naming it; the header is skipped.
func ParseSockets(data []byte, udp bool) ([]Listener, error) {
	want := tcpListen
	if udp {
		want = udpClose
	}
	var out []Listener
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 512), 4096)
	for n := 0; sc.Scan(); n++ {
		if n == 0 || n > maxSocketLines {
			continue // header
		}
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 4 {
			return out, fmt.Errorf("line %d: %d fields, want at least 4", n+1, len(fields))
		}
		state, err := strconv.ParseUint(string(fields[3]), 16, 8)
		if err != nil {
			return out, fmt.Errorf("line %d: state %q", n+1, truncate(fields[3]))
		}
		if int(state) != want {
			continue
		}
		l, err := parseLocal(fields[1])
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return out, err
	}
	return out, nil
}

// parseLocal reads "0100007F:0019" (IPv4, one little-endian word) or the
// IPv6 form (four little-endian words) and its port.
func parseLocal(field []byte) (Listener, error) {
	addrHex, portHex, ok := bytes.Cut(field, []byte{':'})
	if !ok || (len(addrHex) != 8 && len(addrHex) != 32) {
		return Listener{}, fmt.Errorf("local address %q", truncate(field))
	}
	port, err := strconv.ParseUint(string(portHex), 16, 16)
	if err != nil {
		return Listener{}, fmt.Errorf("local port %q", truncate(field))
	}
	raw := make([]byte, len(addrHex)/2)
	if _, err := hex.Decode(raw, addrHex); err != nil {
		return Listener{}, fmt.Errorf("local address %q", truncate(field))
	}
	// The kernel prints each 32-bit word in host (little-endian) order.
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return Listener{Port: uint16(port), Loopback: isLoopback(raw)}, nil
}

// isLoopback: 127.0.0.0/8, ::1, or 127/8 mapped into IPv6.
func isLoopback(ip []byte) bool {
	if len(ip) == 4 {
		return ip[0] == 127
	}
	if bytes.Equal(ip[:10], make([]byte, 10)) && ip[10] == 0xff && ip[11] == 0xff {
		return ip[12] == 127
	}
	return bytes.Equal(ip[:15], make([]byte, 15)) && ip[15] == 1
}

func truncate(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
