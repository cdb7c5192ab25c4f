package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/net/netutil"
)

// webOptions bound what a client can hold of the server: connections,
// and how long a connection may sit idle or take to send its headers or
// receive its answer. Without them 8,000 idle keep-alive connections
// stayed open for ever and new scrapes could not connect.
type webOptions struct {
	idleTimeout    time.Duration
	writeTimeout   time.Duration
	maxConnections int
	// enableLifecycle serves POST /-/reload; SIGHUP always reloads.
	enableLifecycle bool
}

// readHeaderTimeout bounds a client sending its request headers slowly.
const readHeaderTimeout = 10 * time.Second

func addWebFlags(app *kingpin.Application, o *webOptions) {
	app.Flag("web.idle-timeout", "Close a keep-alive connection idle this long.").Default("2m").DurationVar(&o.idleTimeout)
	app.Flag("web.write-timeout", "Longest time to answer one request, scrape included; keep it above the scrape_timeout of any Prometheus scraping the exporter.").Default("2m").DurationVar(&o.writeTimeout)
	app.Flag("web.max-connections", "Most connections open at once per listen address; more wait in the kernel's queue until one closes. 0 means no limit.").Default("256").IntVar(&o.maxConnections)
	app.Flag("web.enable-lifecycle", "Serve POST /-/reload (reload the configuration over HTTP). Off by default, as in Prometheus; SIGHUP always reloads.").BoolVar(&o.enableLifecycle)
}

// webServers are the HTTP servers of the exporter, one per listener:
// exporter-toolkit wraps a server's handler (TLS config reload, basic
// auth) when it serves it, so each listener gets its own server rather
// than several toolkit goroutines rewriting one server's handler.
type webServers struct {
	servers []*http.Server
}

// serveWeb listens on every --web.listen-address (or the systemd sockets)
// and serves handler there until Shutdown. The returned channel gets the
// first serving error (http.ErrServerClosed after Shutdown).
func serveWeb(fc *web.FlagConfig, o webOptions, handler http.Handler, logger *slog.Logger) (*webServers, <-chan error, error) {
	listeners, err := listen(fc)
	if err != nil {
		return nil, nil, err
	}
	ws := &webServers{}
	errs := make(chan error, len(listeners))
	gate := newAuthGate()
	for _, l := range listeners {
		if o.maxConnections > 0 {
			l = netutil.LimitListener(l, o.maxConnections)
		}
		srv := &http.Server{
			Handler:           gate.behind(handler),
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       o.idleTimeout,
			WriteTimeout:      o.writeTimeout,
		}
		ws.servers = append(ws.servers, srv)
		l = &firstAccept{Listener: l, hook: func() { srv.Handler = gate.inFront(srv.Handler) }}
		go func() { errs <- web.Serve(l, srv, fc, logger) }()
	}
	return ws, errs, nil
}

// Shutdown stops every server, waiting for requests in progress until ctx
// ends.
func (ws *webServers) Shutdown(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range ws.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.Shutdown(ctx)
		}()
	}
	wg.Wait()
}

// listen opens what exporter-toolkit's ListenAndServe would: the systemd
// sockets with --web.systemd-socket, else each address (tcp, or vsock://).
// The exporter opens them itself to cap their connections.
func listen(fc *web.FlagConfig) ([]net.Listener, error) {
	if fc.WebSystemdSocket != nil && *fc.WebSystemdSocket {
		ls, err := activation.Listeners()
		if err != nil {
			return nil, err
		}
		if len(ls) == 0 {
			return nil, errors.New("no socket activation file descriptors found")
		}
		return ls, nil
	}
	if fc.WebListenAddresses == nil || len(*fc.WebListenAddresses) == 0 {
		return nil, errors.New("no --web.listen-address")
	}
	var ls []net.Listener
	for _, addr := range *fc.WebListenAddresses {
		l, err := listenOne(addr)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func listenOne(addr string) (net.Listener, error) {
	if !strings.HasPrefix(addr, "vsock://") {
		return net.Listen("tcp", addr)
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, err
	}
	_, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("vsock port %q: %w", portStr, err)
	}
	return vsock.Listen(uint32(port), nil)
}

// firstAccept runs hook at its first Accept. web.Serve sets the server's
// final handler (its auth wrapper around ours) before the server accepts,
// in the goroutine that then calls Accept: the hook sees that handler,
// and every connection is served after the hook ran.
type firstAccept struct {
	net.Listener
	once sync.Once
	hook func()
}

func (l *firstAccept) Accept() (net.Conn, error) {
	l.once.Do(l.hook)
	return l.Listener.Accept()
}

// authGate keeps a flood of wrong passwords from starving valid scrapes.
// exporter-toolkit checks a basic-auth password with bcrypt (about 80 ms
// at cost 10), one check at a time, and caches 100 results with random
// eviction: a flood of distinct wrong passwords evicts the valid one and
// queues every check behind the flood (a valid scrape waited 3.8 s behind
// 50 attackers). The gate, in front of the toolkit, lets credentials
// that already passed once go straight on, and admits one unknown
// credential at a time to the toolkit's check (maxAuthWaiting more may
// wait; beyond, 429 at once).
type authGate struct {
	checks  chan struct{} // one token: an unknown credential is being checked
	waiting atomic.Int64

	mu   sync.Mutex
	good map[[32]byte]struct{}
}

const (
	maxAuthWaiting = 64
	// maxGoodCredentials bounds the credentials remembered as valid; there
	// are a handful (one per Prometheus), but without basic auth in the
	// web config any credential passes.
	maxGoodCredentials = 64
)

type releaseKey struct{}

func newAuthGate() *authGate {
	return &authGate{checks: make(chan struct{}, 1), good: map[[32]byte]struct{}{}}
}

func credentialKey(user, pass string) [32]byte {
	return sha256.Sum256([]byte(user + "\x00" + pass))
}

func (g *authGate) known(k [32]byte) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.good[k]
	return ok
}

// inFront wraps the toolkit's handler (auth first, then ours).
func (g *authGate) inFront(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || g.known(credentialKey(user, pass)) {
			next.ServeHTTP(w, r)
			return
		}
		if g.waiting.Add(1) > maxAuthWaiting {
			g.waiting.Add(-1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many password checks waiting", http.StatusTooManyRequests)
			return
		}
		select {
		case g.checks <- struct{}{}:
			g.waiting.Add(-1)
		case <-r.Context().Done():
			g.waiting.Add(-1)
			return
		}
		var once sync.Once
		release := func() { once.Do(func() { <-g.checks }) }
		defer release()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), releaseKey{}, release)))
	})
}

// behind wraps our handler, which a request reaches once the toolkit has
// accepted its credentials: they are remembered as valid, and the check's
// token is given back before the request is served.
func (g *authGate) behind(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if release, ok := r.Context().Value(releaseKey{}).(func()); ok {
			release()
		}
		if user, pass, ok := r.BasicAuth(); ok {
			k := credentialKey(user, pass)
			g.mu.Lock()
			if _, ok := g.good[k]; !ok {
				if len(g.good) >= maxGoodCredentials {
					clear(g.good)
				}
				g.good[k] = struct{}{}
			}
			g.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}
