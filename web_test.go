package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reload over HTTP is off unless --web.enable-lifecycle, as in Prometheus:
// anyone reaching the port could otherwise make the exporter reread its
// config. SIGHUP always works (TestReloadKeepsOldConfigOnError).
func TestReloadOverHTTPNeedsLifecycleFlag(t *testing.T) {
	p := startDemo(t)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodGet} {
		req, _ := http.NewRequest(method, "http://"+p.addr+"/-/reload", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /-/reload without --web.enable-lifecycle: %d, want 404", method, resp.StatusCode)
		}
	}
	if strings.Contains(p.stderr.String(), "configuration reloaded") {
		t.Error("the configuration was reloaded over HTTP")
	}
}

// An idle keep-alive connection is closed after --web.idle-timeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	p := startDemo(t, "--web.idle-timeout=300ms")
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Generous: the server closes after 300 ms; without an idle timeout
	// it never does and the read below times out.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("idle connection still open after 10 s (read: %v)", err)
	}
}

// At most --web.max-connections connections are held open by the
// exporter; more wait in the kernel's queue, costing it no descriptor.
func TestConnectionsAreCapped(t *testing.T) {
	p := startDemo(t, "--web.max-connections=8")
	before := openFDs(t, p.cmd.Process.Pid)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 100 {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond) // let the server accept what it will
	if after := openFDs(t, p.cmd.Process.Pid); after > before+8+4 {
		t.Errorf("100 idle connections cost the exporter %d descriptors (cap 8)", after-before)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	if m := p.metrics(t); !strings.Contains(m, "heartbeat_load1 ") {
		t.Error("no scrape after the connections closed")
	}
}

func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// authStub stands for exporter-toolkit's basic auth: one check at a time
// (its mutex), "good" is the only valid password; checks counts the
// checks running at once and blocks each until release is closed.
type authStub struct {
	mu            sync.Mutex
	running, most int
	release       chan struct{}
	checkedOne    chan struct{}
	next          http.Handler
}

func (s *authStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pass, _ := r.BasicAuth()
	if pass != "good" {
		s.mu.Lock()
		s.running++
		s.most = max(s.most, s.running)
		s.mu.Unlock()
		s.checkedOne <- struct{}{}
		<-s.release
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	s.next.ServeHTTP(w, r)
}

// TestAuthGate: wrong passwords reach the password check one at a time,
// more than maxAuthWaiting waiting are refused at once, and a credential
// that passed once is not queued behind them.
func TestAuthGate(t *testing.T) {
	g := newAuthGate()
	stub := &authStub{release: make(chan struct{}), checkedOne: make(chan struct{}, 200)}
	stub.next = g.behind(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	srv := httptest.NewServer(g.inFront(stub))
	defer srv.Close()
	get := func(ctx context.Context, pass string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		req.SetBasicAuth("prometheus", pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(context.Background(), "good"); code != http.StatusOK {
		t.Fatalf("first valid scrape: %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	codes := make(chan int, 200)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- get(ctx, "wrong"+strconv.Itoa(i))
		}()
	}
	<-stub.checkedOne // one flood request holds the check
	// 1 checking, 64 waiting, the other 35 refused at once.
	for range 100 - 1 - maxAuthWaiting {
		if code := <-codes; code != http.StatusTooManyRequests {
			t.Errorf("flood request beyond the waiting room: %d, want 429", code)
		}
	}
	if code := get(context.Background(), "good"); code != http.StatusOK {
		t.Errorf("valid scrape during the flood: %d", code)
	}
	close(stub.release)
	wg.Wait()
	if stub.most != 1 {
		t.Errorf("%d password checks ran at once, want 1", stub.most)
	}
}
