package image

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// engineAPI serves the two Engine API calls charter makes, over a unix socket, from a
// docker save archive on disk: enough of a daemon for unit tests. The integration
// script runs the real dockerd.
func engineAPI(t *testing.T, images map[string]string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/images/"), "/get")
		archive, found := images[name]
		if !ok || !found {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"reference does not exist"}`))
			return
		}
		http.ServeFile(w, r, archive)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "unix://" + sock
}

func TestDaemonSources(t *testing.T) {
	archive := writeLegacyArchive(t, leakyImage(t), "leaky:v1")
	host := engineAPI(t, map[string]string{"leaky:v1": archive})
	o := testOptions(t)
	o.Getenv = func(k string) string {
		switch k {
		case "DOCKER_HOST", "CONTAINER_HOST":
			return host
		}
		return ""
	}
	for _, ref := range []string{"docker:leaky:v1", "podman:leaky:v1", "leaky:v1"} {
		im, err := Open(context.Background(), ref, o)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if ref == "leaky:v1" && im.Scheme() != SchemeDocker {
			t.Errorf("bare reference the daemon has resolved to %s", im.Scheme())
		}
		x := mustWalk(t, im)
		if _, ok := x.Lookup("/app/main"); !ok || len(x.Hidden) != 4 {
			t.Errorf("%s: index incomplete", ref)
		}
		if err := im.Close(); err != nil {
			t.Error(err)
		}
	}
	// The scratch export is removed on Close.
	if ents, _ := os.ReadDir(filepath.Join(o.CacheDir, "tmp")); len(ents) != 0 {
		t.Errorf("scratch files left: %v", ents)
	}

	_, err := Open(context.Background(), "docker:missing:v1", o)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "reference does not exist") {
		t.Errorf("missing image: got %v", err)
	}
	_, err = Open(context.Background(), "docker:../../containers/json?", o)
	if !errors.Is(err, ErrInvalidRef) {
		t.Errorf("hostile name: got %v", err)
	}

	o.Getenv = func(k string) string {
		if k == "DOCKER_HOST" {
			return "unix://" + filepath.Join(t.TempDir(), "no.sock")
		}
		return ""
	}
	_, err = Open(context.Background(), "docker:leaky:v1", o)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Errorf("no daemon: got %v", err)
	}
}
