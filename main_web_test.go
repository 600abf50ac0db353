package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
)

var (
	httpsLine   = regexp.MustCompile(`msg="switchboard serving".* http=(\S+) https=(\S+)`)
	fingerprint = regexp.MustCompile(`msg="https certificate" sha256_fingerprint=(\S+)`)
	webLine     = regexp.MustCompile(`web admin: (https://\S+)`)
)

// TestServeHTTPS runs the binary: the first run names the web address, the
// log names the certificate's fingerprint, the HTTPS port serves the
// certificate with that fingerprint and the login, and plain HTTP keeps
// health and metrics and sends pages to HTTPS.
func TestServeHTTPS(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	m := httpsLine.FindStringSubmatch(srv.stderr.String())
	fp := fingerprint.FindStringSubmatch(srv.stderr.String())
	web := webLine.FindStringSubmatch(srv.stdout.String())
	pw := loginLine.FindStringSubmatch(srv.stdout.String())
	if m == nil || fp == nil || web == nil || pw == nil {
		t.Fatalf("log or first-run message incomplete:\nstdout:\n%s\nstderr:\n%s", srv.stdout, srv.stderr)
	}
	httpAddr, httpsAddr := m[1], m[2]
	if web[1] != "https://"+httpsAddr+"/" {
		t.Errorf("first run names %s, serving on %s", web[1], httpsAddr)
	}

	var seen string
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			seen = strings.ToUpper(hex.EncodeToString(sum[:]))
			return nil
		}}}}
	res, err := client.Get("http://" + httpAddr + "/login") // redirected to HTTPS
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.TLS == nil || res.StatusCode != 200 || !strings.Contains(string(body), "Extension or email") {
		t.Fatalf("login page over the redirect: %d, TLS %v", res.StatusCode, res.TLS != nil)
	}
	if seen != strings.ReplaceAll(fp[1], ":", "") {
		t.Errorf("served certificate %s, logged fingerprint %s", seen, fp[1])
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		res, err := http.Get("http://" + httpAddr + path)
		if err != nil || res.StatusCode != 200 || res.Request.URL.Scheme != "http" {
			t.Errorf("plain %s: %v %v", path, res, err)
		}
		res.Body.Close()
	}
	res, err = client.Post("https://"+httpsAddr+"/api/login", "application/json",
		strings.NewReader(`{"login": "100", "password": "`+pw[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"role": "admin"`) {
		t.Fatalf("first-run login over the API: %d %s", res.StatusCode, body)
	}
}
