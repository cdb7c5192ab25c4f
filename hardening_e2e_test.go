package main

// Hardening end to end: TLS and basic auth through --web.config.file
// (exporter-toolkit) with a real TLS client, and scrapes, pushes and
// reloads all at once under the race detector.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"golang.org/x/crypto/bcrypt"

	"github.com/heartbeat-exporter/heartbeat_exporter/collector"
	"github.com/heartbeat-exporter/heartbeat_exporter/push"
)

// selfSignedCert writes a certificate for 127.0.0.1 and its key into dir
// and returns a pool trusting it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "heartbeat test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	writeFile(t, webConfig, "tls_server_config:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+
		"\nbasic_auth_users:\n  prometheus: "+string(hash)+"\n")
	// startDemo's readiness probe speaks plain HTTP: a TLS server answers
	// it 400, which is enough to know it is listening.
	p := startDemo(t, "--web.config.file="+webConfig)

	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(c *http.Client, scheme, user, pass string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, scheme+"://"+p.addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}

	code, body, err := get(trusting, "https", "prometheus", "s3cret")
	if err != nil || code != http.StatusOK || !strings.Contains(body, "heartbeat_load1 0.42") {
		t.Fatalf("right password over TLS: %d %v\n%.300s", code, err, body)
	}
	for _, tc := range []struct{ user, pass string }{{"prometheus", "wrong"}, {"", ""}, {"admin", "s3cret"}} {
		code, body, err := get(trusting, "https", tc.user, tc.pass)
		if err != nil || code != http.StatusUnauthorized || strings.Contains(body, "heartbeat_") {
			t.Errorf("user %q password %q: %d %v, body %.200q; want 401 and no metrics", tc.user, tc.pass, code, err, body)
		}
	}
	// Plain HTTP gets no metrics, with or without the right password.
	if code, body, err := get(http.DefaultClient, "http", "prometheus", "s3cret"); err == nil && (code == http.StatusOK || strings.Contains(body, "heartbeat_")) {
		t.Errorf("plain HTTP served: %d %.200q", code, body)
	}
	// A client that does not trust the certificate does not get through.
	if _, _, err := get(&http.Client{}, "https", "prometheus", "s3cret"); err == nil {
		t.Error("a client without the CA completed the TLS handshake")
	}
}

// Scrapes over HTTP, POST /-/reload, SIGHUP and the push loop, all at
// once on one exporter: run with -race; every scrape must be whole.
func TestScrapesReloadsAndPushesAtOnce(t *testing.T) {
	dir := t.TempDir()
	demoCfg, err := os.ReadFile(demoTree + "/heartbeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "heartbeat.yml")
	writeFile(t, cfg, string(demoCfg))
	pm := push.NewMetrics()
	e, err := newExporter(log.NewNopLogger(), exporterOptions{
		configFile:     cfg,
		paths:          collector.Paths{Proc: demoTree + "/proc", Sys: demoTree + "/sys", Root: demoTree + "/root"},
		selfCollectors: pm.Collectors(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mux, err := newMux(e, &flags{telemetryPath: "/metrics", webOpts: webOptions{enableLifecycle: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var pushes sync.WaitGroup
	pushed := 0
	var pushMu sync.Mutex
	pg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		pushMu.Lock()
		pushed++
		pushMu.Unlock()
	}))
	defer pg.Close()
	p, err := push.New(push.Options{URL: pg.URL, Protocol: push.ProtocolPushgateway, Interval: 250 * time.Millisecond,
		Timeout: time.Second, Job: "heartbeat"}, e.pushSource(), pm, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}

	// Our own Notify first, so a SIGHUP can never take the default action
	// (exit) before reloadOnHangup has registered.
	hup := make(chan os.Signal, 16)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go reloadOnHangup(ctx, e, log.NewNopLogger())
	pushes.Add(1)
	go func() { defer pushes.Done(); p.Run(ctx) }()

	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 15; j++ {
				resp, err := http.Get(srv.URL + "/metrics")
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "heartbeat_load1 0.42") ||
					!strings.Contains(string(b), "heartbeat_push_failures_total") {
					t.Errorf("scrape during reloads: %d, %d bytes", resp.StatusCode, len(b))
					return
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		label := []string{"acme", "globex"}[i%2]
		writeFile(t, cfg, strings.Replace(string(demoCfg), "acme", label, 1))
		if i%2 == 0 {
			resp, err := http.Post(srv.URL+"/-/reload", "", nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("POST /-/reload: %v %v", resp, err)
			}
			resp.Body.Close()
		} else if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	cancel()
	pushes.Wait()
	pushMu.Lock()
	defer pushMu.Unlock()
	if pushed == 0 {
		t.Error("no push got through while scrapes and reloads ran")
	}
}
