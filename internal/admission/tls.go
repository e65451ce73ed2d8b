package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// maxPEM bounds a certificate or key file.
const maxPEM = 1 << 20

// CertReloader serves a certificate and key from files, reloading them when they change
// (a Kubernetes Secret volume or cert-manager rotates them in place). A change that does
// not load (a half-written pair) keeps the previous certificate and is retried.
type CertReloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu       sync.RWMutex
	cert     *tls.Certificate
	certPEM  []byte
	keyPEM   []byte
	loadedAt time.Time
}

// NewCertReloader loads the pair once; it fails when it cannot.
func NewCertReloader(certFile, keyFile string, logger *slog.Logger) (*CertReloader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, logger: logger}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files and swaps the certificate in when they changed and load.
// changed reports whether a new certificate is now served.
func (r *CertReloader) Reload() (changed bool, err error) {
	certPEM, err := readBounded(r.certFile)
	if err != nil {
		return false, fmt.Errorf("--tls-cert %s: %w", r.certFile, err)
	}
	keyPEM, err := readBounded(r.keyFile)
	if err != nil {
		return false, fmt.Errorf("--tls-key %s: %w", r.keyFile, err)
	}
	r.mu.RLock()
	same := bytes.Equal(certPEM, r.certPEM) && bytes.Equal(keyPEM, r.keyPEM)
	r.mu.RUnlock()
	if same {
		return false, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The message names the files only: a key file's content never reaches a log.
		return false, fmt.Errorf("--tls-cert %s and --tls-key %s do not load as a pair: %w", r.certFile, r.keyFile, errors.Unwrap(err))
	}
	r.mu.Lock()
	r.cert, r.certPEM, r.keyPEM, r.loadedAt = &cert, certPEM, keyPEM, time.Now()
	r.mu.Unlock()
	return true, nil
}

// GetCertificate is the tls.Config hook: it always returns the newest loaded pair.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// Watch polls the files every interval until ctx ends. Polling, rather than inotify,
// follows the symlink swaps Kubernetes uses to update Secret volumes.
func (r *CertReloader) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := r.Reload()
			switch {
			case err != nil:
				r.logger.Warn("serving certificate not reloaded; keeping the previous one", "err", err)
			case changed:
				r.logger.Info("serving certificate reloaded", "cert", r.certFile)
			}
		}
	}
}

// TLSConfig is a server configuration serving the reloader's certificate, TLS 1.2 and up.
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	if err == nil && len(data) > maxPEM {
		err = fmt.Errorf("larger than %d bytes", maxPEM)
	}
	return data, err
}
