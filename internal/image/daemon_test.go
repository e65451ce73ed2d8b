package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// engineAPI serves the two Engine API calls charter makes, over a unix socket, from a
// docker save archive on disk: enough of a daemon for unit tests. The integration
// script runs the real dockerd.
type fakeImage struct {
	archive string
	id      string // the config digest, as the classic image store names images
}

func engineAPI(t *testing.T, images map[string]fakeImage, exports *atomic.Int32) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/images/")
		name, export := strings.CutSuffix(p, "/get")
		if !export {
			name = strings.TrimSuffix(p, "/json")
		}
		img, found := images[name]
		if !found {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"reference does not exist"}`))
			return
		}
		if !export {
			_, _ = fmt.Fprintf(w, `{"Id":%q}`, img.id)
			return
		}
		exports.Add(1)
		http.ServeFile(w, r, img.archive)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "unix://" + sock
}

func TestDaemonSources(t *testing.T) {
	img := leakyImage(t)
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	var exports atomic.Int32
	host := engineAPI(t, map[string]fakeImage{"leaky:v1": {writeLegacyArchive(t, img, "leaky:v1"), cfgName.String()}}, &exports)
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

	// The first Open exported; the later ones found config and layers cached.
	if n := exports.Load(); n != 1 {
		t.Errorf("%d exports, want 1 (warm scans need none)", n)
	}
	// A layer the cache lacks (a new analyzer) makes the export happen during Walk.
	im := mustOpen(t, "docker:leaky:v1", o)
	x := mustWalk(t, im, secretAnalyzer())
	if n := exports.Load(); n != 2 || len(x.Records()) != 1 || x.Layers[0].Cached {
		t.Errorf("lazy export: %d exports, records %v", n, x.Records())
	}

	_, err = Open(context.Background(), "docker:missing:v1", o)
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
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "DOCKER_HOST") || strings.Count(err.Error(), "unreachable") != 1 {
		t.Errorf("no daemon: got %v", err)
	}
}
