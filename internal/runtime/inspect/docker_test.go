package inspect

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// engine serves an Engine API on a unix socket, as dockerd does.
func engine(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return "unix://" + sock
}

func TestDockerClientUnixSocket(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "docker-good.json"))
	if err != nil {
		t.Fatal(err)
	}
	host := engine(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/containers/good/json":
			_, _ = w.Write(good)
		case "/containers/huge/json":
			_, _ = w.Write([]byte(`{"Id":"` + strings.Repeat("a", maxInspect) + `"}`))
		case "/containers/broken/json":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/images/sha256:abc/json":
			_, _ = w.Write([]byte(`{"Config":{"User":"probe","Volumes":{"/data":{}}}}`))
		default:
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
		}
	})
	d, err := NewDocker(host)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := d.Container(ctx, "good")
	if err != nil || c.Settings.Location.Container != "good" || !c.Settings.ReadOnlyRoot {
		t.Fatalf("%+v %v", c, err)
	}
	cfg, err := d.ImageConfig(ctx, "sha256:abc")
	if err != nil || cfg.Config.User != "probe" {
		t.Errorf("image config %+v %v", cfg, err)
	}
	if _, err := d.Container(ctx, "gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing container: %v", err)
	}
	if _, err := d.Container(ctx, "huge"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized answer: %v", err)
	}
	if _, err := d.Container(ctx, "broken"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("server error: %v", err)
	}
	if _, err := NewDocker("npipe:////./pipe/docker_engine"); err == nil {
		t.Error("npipe accepted")
	}
}
