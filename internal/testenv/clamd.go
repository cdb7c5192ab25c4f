package testenv

import (
	"io"
	"net"
	"testing"
	"time"
)

// AskClamd sends one newline-terminated command to clamd's unix socket on
// a fresh connection and returns the whole reply: a test's own view of
// clamd, independent of internal/clamd.
func AskClamd(t testing.TB, socket, cmd string) string {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "n"+cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
