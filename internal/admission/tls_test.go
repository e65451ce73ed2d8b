package admission

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMakeCertsServesTheServiceName(t *testing.T) {
	c, err := MakeCerts("charter-admission", "charter-system", 365*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := "charter-admission.charter-system.svc"
	pair, err := tls.X509KeyPair(c.ServerCert, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(c.CACert) {
		t.Fatal("CA PEM does not parse")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: want, Roots: roots}); err != nil {
		t.Errorf("serving cert does not verify for %s under the CA: %v", want, err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.charter-system.svc", Roots: roots}); err == nil {
		t.Error("serving cert verifies for another service")
	}
	if _, err := MakeCerts("", "ns", time.Hour, time.Now()); err == nil {
		t.Error("no service name accepted")
	}
}

// TestCertHotReload serves a pair, replaces the files, and sees the new certificate on
// the next handshake; a broken pair keeps the old one.
func TestCertHotReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := writePair(t, certFile, keyFile)
	r, err := NewCertReloader(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Watch(ctx, 20*time.Millisecond)

	if got := served(t, ln.Addr().String()); got != first {
		t.Fatalf("served serial %s, want %s", got, first)
	}
	second := writePair(t, certFile, keyFile)
	deadline := time.Now().Add(5 * time.Second)
	for served(t, ln.Addr().String()) != second {
		if time.Now().After(deadline) {
			t.Fatal("new certificate not served within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	writeFile(t, keyFile, []byte("not a key"))
	if _, err := r.Reload(); err == nil || strings.Contains(err.Error(), "not a key") {
		t.Errorf("broken key: %v (must fail without quoting the file)", err)
	}
	if got := served(t, ln.Addr().String()); got != second {
		t.Errorf("after a broken update the server serves %s, want the previous %s", got, second)
	}
}

func writePair(t *testing.T, certFile, keyFile string) string {
	t.Helper()
	c, err := MakeCerts("svc", "ns", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, c.ServerCert)
	writeFile(t, keyFile, c.Key)
	pair, err := tls.X509KeyPair(c.ServerCert, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.String()
}

// served returns the serial number of the certificate a TLS server presents.
func served(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test reads the served certificate, it trusts nothing
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}
