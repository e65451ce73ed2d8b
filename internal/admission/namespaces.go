package admission

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// serviceAccountDir is where Kubernetes mounts a pod's service account credentials.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// KubeNamespaces reads namespace labels from the Kubernetes API server with the pod's
// service account (which needs get on namespaces), caching them for a minute.
type KubeNamespaces struct {
	base      string // https://host:port
	client    *http.Client
	tokenFile string
	ttl       time.Duration

	mu    sync.Mutex
	cache map[string]nsEntry
}

type nsEntry struct {
	labels  map[string]string
	expires time.Time
}

// InClusterNamespaces returns a KubeNamespaces for the API server the pod runs under
// (KUBERNETES_SERVICE_HOST and _PORT, the mounted service account token and CA).
func InClusterNamespaces(getenv func(string) string) (*KubeNamespaces, error) {
	host, port := getenv("KUBERNETES_SERVICE_HOST"), getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)")
	}
	ca, err := os.ReadFile(serviceAccountDir + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("service account CA: %w", err)
	}
	return NewKubeNamespaces("https://"+net.JoinHostPort(host, port), ca, serviceAccountDir+"/token")
}

// NewKubeNamespaces reads namespaces from the API server at base, trusting caPEM and
// authenticating with the token in tokenFile (re-read on every lookup: it is rotated).
func NewKubeNamespaces(base string, caPEM []byte, tokenFile string) (*KubeNamespaces, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("API server CA: no certificate in PEM")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &KubeNamespaces{base: base, tokenFile: tokenFile, ttl: time.Minute, cache: map[string]nsEntry{},
		client: &http.Client{Transport: tr, Timeout: 2 * time.Second}}, nil
}

// Labels returns the namespace's labels.
func (k *KubeNamespaces) Labels(ctx context.Context, name string) (map[string]string, error) {
	k.mu.Lock()
	e, ok := k.cache[name]
	k.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.labels, nil
	}
	token, err := os.ReadFile(k.tokenFile) //nolint:gosec // the mounted service account token, a fixed path
	if err != nil {
		return nil, fmt.Errorf("service account token: %w", err)
	}
	u := k.base + "/api/v1/namespaces/" + url.PathEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil) //nolint:gosec // the API server from the pod's environment
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req) //nolint:gosec // the API server from the pod's environment
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("API server answered %s for namespace %s (the webhook's ServiceAccount needs get on namespaces)", resp.Status, name)
	}
	var ns corev1.Namespace
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ns); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", name, err)
	}
	k.mu.Lock()
	if len(k.cache) > 10000 {
		clear(k.cache)
	}
	k.cache[name] = nsEntry{labels: ns.Labels, expires: time.Now().Add(k.ttl)}
	k.mu.Unlock()
	return ns.Labels, nil
}
