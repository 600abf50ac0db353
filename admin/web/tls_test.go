package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestCertificateCreatedOnceAndKept(t *testing.T) {
	st := openStore(t)
	cert, err := Certificate(st)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if !slices.Contains(leaf.DNSNames, "localhost") || !slices.ContainsFunc(leaf.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) {
		t.Errorf("SANs %v %v lack localhost or 127.0.0.1", leaf.DNSNames, leaf.IPAddresses)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if life := leaf.NotAfter.Sub(time.Now()); life < 9*365*24*time.Hour {
		t.Errorf("valid for %v only", life)
	}
	if leaf.IsCA || !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("IsCA %v, ext key usage %v", leaf.IsCA, leaf.ExtKeyUsage)
	}
	var stored storedCertificate
	if err := st.Setting(CertificateKey, &stored); err != nil || !strings.HasPrefix(stored.CertPEM, "-----BEGIN CERTIFICATE-----") ||
		!strings.HasPrefix(stored.KeyPEM, "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("stored certificate: %v %.40q", err, stored.CertPEM)
	}
	again, err := Certificate(st)
	if err != nil || Fingerprint(again) != Fingerprint(cert) {
		t.Fatalf("second start: %v, fingerprint %s, want %s", err, Fingerprint(again), Fingerprint(cert))
	}
	if fp := Fingerprint(cert); len(fp) != 32*3-1 || strings.Count(fp, ":") != 31 {
		t.Errorf("fingerprint %q", fp)
	}
}

func TestPlainRedirectsPagesKeepsHealth(t *testing.T) {
	h := Plain(Handler(fakeReg{}, func() uint64 { return 0 }, nil), "8443")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://box.lan:8080/admin/users?q=al", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "https://box.lan:8443/admin/users?q=al" {
		t.Errorf("GET page: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "http://box.lan:8080/login", strings.NewReader("login=100&password=x")))
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
		t.Errorf("POST over plain HTTP: %d, want 400 and no redirect", rec.Code)
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://box.lan:8080"+path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
	rec = httptest.NewRecorder()
	Plain(http.NotFoundHandler(), "443").ServeHTTP(rec, httptest.NewRequest("GET", "http://[::1]:8080/", nil))
	if loc := rec.Header().Get("Location"); loc != "https://[::1]/" {
		t.Errorf("redirect to 443 from IPv6: %q", loc)
	}
}

func TestServerServesBothAndStops(t *testing.T) {
	st := openStore(t)
	cert, err := Certificate(st)
	if err != nil {
		t.Fatal(err)
	}
	httpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	httpsLn, _ := net.Listen("tcp", "127.0.0.1:0")
	secure := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" { // a long-lived request (a live-event stream) ends at shutdown
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "secure "+r.URL.Path)
	})
	srv := NewServer(ServerConfig{HTTP: httpLn, HTTPS: httpsLn, Cert: cert, Log: slog.New(slog.DiscardHandler),
		Plain: Plain(http.NotFoundHandler(), PortOf(httpsLn)), Secure: secure})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()

	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get("http://" + srv.HTTPAddr() + "/admin") // follows the redirect, trusting the certificate
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "secure /admin" || res.TLS == nil {
		t.Fatalf("after redirect: %q (TLS %v)", body, res.TLS != nil)
	}
	stream, err := client.Get("https://" + srv.HTTPSAddr() + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended (with a stream open)")
	}
}
