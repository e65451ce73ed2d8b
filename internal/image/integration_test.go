package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The integration tests run against the real servers scripts/it/image.sh starts: Debian's
// docker-registry and a dockerd, with images that script built. Each needs the
// environment the script sets.

func itEnv(t *testing.T, keys ...string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, k := range keys {
		v := os.Getenv(k)
		if v == "" {
			t.Skipf("%s not set: run scripts/it/image.sh, which starts the servers", k)
		}
		env[k] = v
	}
	return env
}

// itOptions points the package at the script's servers and cache.
func itOptions(t *testing.T, env map[string]string) Options {
	o := testOptions(t)
	o.InsecureRegistries = []string{env["CHARTER_IT_REGISTRY"]}
	o.Retry = fastRetry
	o.Getenv = func(k string) string {
		if k == "DOCKER_HOST" {
			return env["CHARTER_IT_DOCKER_HOST"]
		}
		return ""
	}
	return o
}

// TestIntegrationDockerBuilt reads the leaky image that dockerd built, through the
// registry, the daemon, and docker save's archive, and finds what was planted.
func TestIntegrationDockerBuilt(t *testing.T) {
	env := itEnv(t, "CHARTER_IT_REGISTRY", "CHARTER_IT_DOCKER_HOST", "CHARTER_IT_ARCHIVE")
	refs := []string{
		"registry:" + env["CHARTER_IT_REGISTRY"] + "/charter-it/leaky:1",
		"docker:charter-it/leaky:1",
		"charter-it/leaky:1", // bare: the daemon has it
		"docker-archive:" + env["CHARTER_IT_ARCHIVE"],
	}
	var first []string
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			im := mustOpen(t, ref, itOptions(t, env))
			x := mustWalk(t, im)
			checkLeaky(t, im, x)
			got := finalPaths(x)
			if first == nil {
				first = got
			} else if !reflect.DeepEqual(got, first) {
				t.Errorf("final filesystem differs between sources\n got %v\nwant %v", got, first)
			}
		})
	}
}

func checkLeaky(t *testing.T, im *Image, x *Index) {
	t.Helper()
	cfg := im.ConfigFile().Config
	if cfg.User != "" {
		t.Errorf("user %q, want root (unset)", cfg.User)
	}
	if !strings.Contains(strings.Join(cfg.Env, " "), "API_TOKEN=ghp_") {
		t.Errorf("env %v lacks the planted token", cfg.Env)
	}
	if _, ok := cfg.ExposedPorts["22/tcp"]; !ok {
		t.Errorf("ports %v lack 22/tcp", cfg.ExposedPorts)
	}
	var env *Hidden
	for i := range x.Hidden {
		if x.Hidden[i].File.Path == "/app/.env" {
			env = &x.Hidden[i]
		}
	}
	if env == nil {
		t.Fatalf("/app/.env not among the hidden files: %v", x.Hidden)
	}
	added, by := x.Layers[env.File.Layer], x.Layers[env.By]
	if !strings.Contains(added.CreatedBy(), "COPY") || !strings.Contains(by.CreatedBy(), "rm /app/.env") || env.How != HiddenByWhiteout {
		t.Errorf(".env added by %q (layer %d), hidden by %q (layer %d) via %s", added.CreatedBy(), added.Index, by.CreatedBy(), by.Index, env.How)
	}
	if f, ok := x.Lookup("/bin/busybox"); !ok || f.Mode&0o4000 == 0 && f.Mode.String()[0] != 'u' {
		t.Errorf("/bin/busybox not setuid: %+v", f)
	}
	if f, ok := x.Lookup("/root/.ssh/id_rsa"); !ok || !f.Regular() {
		t.Errorf("SSH key missing: %+v", f)
	}
	if f, ok := x.Lookup("/usr/sbin/sshd"); !ok || f.Link != "/bin/busybox" {
		t.Errorf("sshd link: %+v", f)
	}
	if f, ok := x.Lookup("/app/.env"); ok {
		t.Errorf("/app/.env visible in the final filesystem: %+v", f)
	}
}

// TestIntegrationPodman reads the leaky image from Podman, through its API service and,
// with no service answering, through `podman save`.
func TestIntegrationPodman(t *testing.T) {
	env := itEnv(t, "CHARTER_IT_PODMAN_HOST", "CHARTER_IT_REGISTRY", "CHARTER_IT_DOCKER_HOST")
	for _, host := range []string{env["CHARTER_IT_PODMAN_HOST"], "unix:///nonexistent/podman.sock"} {
		o := itOptions(t, env)
		o.Getenv = func(k string) string {
			if k == "CONTAINER_HOST" {
				return host
			}
			return ""
		}
		im := mustOpen(t, "podman:charter-it/leaky:1", o)
		checkLeaky(t, im, mustWalk(t, im))
	}
}

func TestIntegrationClean(t *testing.T) {
	env := itEnv(t, "CHARTER_IT_REGISTRY", "CHARTER_IT_DOCKER_HOST")
	for _, ref := range []string{"registry:" + env["CHARTER_IT_REGISTRY"] + "/charter-it/clean:1", "docker:charter-it/clean:1"} {
		im := mustOpen(t, ref, itOptions(t, env))
		x := mustWalk(t, im)
		if u := im.ConfigFile().Config.User; u != "65532:65532" {
			t.Errorf("%s: user %q", ref, u)
		}
		if len(x.Hidden) != 0 || len(x.Layers[0].Anomalies) != 0 || len(x.Files()) != 2 {
			t.Errorf("%s: clean image shows hidden %v anomalies %v files %v", ref, x.Hidden, x.Layers[0].Anomalies, finalPaths(x))
		}
	}
}

// TestIntegrationGoBuilt pushes images built in Go to the real registry and loads them
// into the real daemon, then reads them back.
func TestIntegrationGoBuilt(t *testing.T) {
	env := itEnv(t, "CHARTER_IT_REGISTRY", "CHARTER_IT_DOCKER_HOST")
	host := env["CHARTER_IT_REGISTRY"]
	img := leakyImageWith(t, gzLayer) // Debian's dockerd (20.10) loads no zstd layers
	push(t, host+"/charter-it/go-leaky:v1", img)
	want := finalPaths(mustWalk(t, mustOpen(t, "oci-dir:"+writeLayout(t, img, "v1"), testOptions(t))))

	r, err := name.ParseReference(host+"/charter-it/multi:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, multiArch(t)); err != nil {
		t.Fatal(err)
	}
	o := itOptions(t, env)
	o.Platform = "linux/arm64"
	if got := archOf(t, mustOpen(t, "registry:"+host+"/charter-it/multi:v1", o)); got != "arm64" {
		t.Errorf("multi-arch from the registry: got %s", got)
	}

	loadIntoDaemon(t, env["CHARTER_IT_DOCKER_HOST"], writeDockerArchive(t, img, "charter-it/go-leaky:v1"))
	for _, ref := range []string{"registry:" + host + "/charter-it/go-leaky:v1", "docker:charter-it/go-leaky:v1"} {
		if got := finalPaths(mustWalk(t, mustOpen(t, ref, itOptions(t, env)))); !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got %v\nwant %v", ref, got, want)
		}
	}

	_, err = Open(context.Background(), "registry:"+host+"/charter-it/go-leaky:nope", itOptions(t, env))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tag: %v", err)
	}
	_, err = Open(context.Background(), "docker:charter-it/never-built:1", itOptions(t, env))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing daemon image: %v", err)
	}
	noInsecure := itOptions(t, env)
	noInsecure.InsecureRegistries = nil
	_, err = Open(context.Background(), "registry:"+host+"/charter-it/go-leaky:v1", noInsecure)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "--insecure-registry") {
		t.Errorf("plain HTTP without --insecure-registry: %v", err)
	}
}

// loadIntoDaemon posts a docker-archive to the Engine API (what `docker load` does).
func loadIntoDaemon(t *testing.T, host, archive string) {
	t.Helper()
	sock := strings.TrimPrefix(host, "unix://")
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post("http://engine/images/load?quiet=1", "application/x-tar", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"error"`)) {
		t.Fatalf("docker load: %s %s", resp.Status, body)
	}
}

// TestIntegrationWarmRescan re-reads the registry image with every layer cached: the
// time left is the manifest and config round trips plus the cache reads.
func TestIntegrationWarmRescan(t *testing.T) {
	env := itEnv(t, "CHARTER_IT_REGISTRY", "CHARTER_IT_DOCKER_HOST")
	for _, ref := range []string{"registry:" + env["CHARTER_IT_REGISTRY"] + "/charter-it/leaky:1", "docker:charter-it/leaky:1"} {
		o := itOptions(t, env)
		mustWalk(t, mustOpen(t, ref, o), secretAnalyzer())
		start := time.Now()
		x := mustWalk(t, mustOpen(t, ref, o), secretAnalyzer())
		took := time.Since(start)
		for _, l := range x.Layers {
			if !l.Cached {
				t.Errorf("%s: layer %d not cached on the second scan", ref, l.Index)
			}
		}
		t.Logf("warm re-scan of %s: %v", ref, took)
		if took > time.Second {
			t.Errorf("%s: warm re-scan took %v", ref, took)
		}
	}
}

func TestIntegrationDir(t *testing.T) {
	env := itEnv(t, "CHARTER_IT_ROOTFS")
	x := mustWalk(t, mustOpen(t, "dir:"+env["CHARTER_IT_ROOTFS"], testOptions(t)))
	if f, ok := x.Lookup("/bin/sh"); !ok || f.Link != "busybox" {
		t.Errorf("/bin/sh: %+v", f)
	}
	if f, ok := x.Lookup("/bin/busybox"); !ok || f.Size == 0 {
		t.Errorf("/bin/busybox: %+v", f)
	}
}
