package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var fastRetry = &Backoff{Duration: time.Millisecond, Factor: 2, Steps: 4}

// testRegistry serves go-containerregistry's in-process registry, behind wrap when given.
func testRegistry(t *testing.T, wrap func(http.Handler) http.Handler) (host string) {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t *testing.T, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func registryOptions(t *testing.T, host string) Options {
	o := testOptions(t)
	o.InsecureRegistries = []string{host}
	o.Retry = fastRetry
	return o
}

// Every source, fed the same image, yields the same index.
func TestSourcesAgree(t *testing.T) {
	img := leakyImage(t)
	host := testRegistry(t, nil)
	push(t, host+"/leaky:v1", img)
	layoutDir := writeLayout(t, img, "v1")

	refs := []string{
		"oci-dir:" + layoutDir,
		"oci-dir:" + layoutDir + ":v1",
		"oci-archive:" + tarDir(t, layoutDir),
		"docker-archive:" + writeDockerArchive(t, img, "example.com/leaky:v1"),
		"docker-archive:" + writeLegacyArchive(t, img, "example.com/leaky:v1"),
		"registry:" + host + "/leaky:v1",
		host + "/leaky:v1", // bare: no daemon here, so the registry
	}
	var first []string
	for _, ref := range refs {
		t.Run(strings.SplitN(ref, ":", 2)[0], func(t *testing.T) {
			o := registryOptions(t, host)
			o.Getenv = func(k string) string {
				if k == "DOCKER_HOST" {
					return "unix://" + filepath.Join(t.TempDir(), "none.sock")
				}
				return ""
			}
			im := mustOpen(t, ref, o)
			if im.ConfigFile().Config.User != "app" {
				t.Errorf("config user %q", im.ConfigFile().Config.User)
			}
			x := mustWalk(t, im, secretAnalyzer())
			got := append(finalPaths(x), fmt.Sprint(len(x.Hidden), len(x.Records())))
			if first == nil {
				first = got
			} else if !reflect.DeepEqual(got, first) {
				t.Errorf("index differs from oci-dir's\n got %v\nwant %v", got, first)
			}
			if im.Scheme() == SchemeDockerArchive && im.Digest().Hex != "" {
				t.Errorf("docker-archive has no manifest digest, got %s", im.Digest())
			}
			if im.Scheme() == SchemeRegistry && im.Digest().Hex == "" {
				t.Error("registry image lacks its manifest digest")
			}
		})
	}
}

func TestRegistryAuth(t *testing.T) {
	const user, pass = "ci", "s3cret-pass"
	host := testRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	push(t, host+"/private:v1", leakyImage(t), remote.WithAuth(&authn.Basic{Username: user, Password: pass}))

	t.Run("no credentials", func(t *testing.T) {
		o := registryOptions(t, host)
		o.Keychain = authn.NewMultiKeychain() // empty: anonymous
		_, err := Open(context.Background(), "registry:"+host+"/private:v1", o)
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("want ErrUnauthorized, got %v", err)
		}
		if !strings.Contains(err.Error(), "docker login "+host) {
			t.Errorf("message should say how to log in: %v", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("message spans lines: %q", err)
		}
	})
	t.Run("broken credential helper", func(t *testing.T) {
		cfgDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"credsStore":"charter-missing-helper"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", cfgDir)
		_, err := Open(context.Background(), "registry:"+host+"/private:v1", registryOptions(t, host))
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "credential helper") {
			t.Fatalf("want ErrUnauthorized about the helper, got %v", err)
		}
	})
	t.Run("docker config", func(t *testing.T) {
		// The default keychain reads $DOCKER_CONFIG/config.json, as docker login writes it.
		cfgDir := t.TempDir()
		auth := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, host, user, pass)
		if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(auth), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", cfgDir)
		im := mustOpen(t, "registry:"+host+"/private:v1", registryOptions(t, host))
		x := mustWalk(t, im)
		if len(x.Files()) == 0 {
			t.Error("no files")
		}
		if strings.Contains(fmt.Sprint(im), pass) {
			t.Error("password visible in the image value")
		}
	})
}

func TestRegistryRetriesServerErrors(t *testing.T) {
	var fails, calls atomic.Int32
	host := testRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				calls.Add(1)
				// Every blob fails once with 503, then 429, then works.
				switch fails.Add(1) % 3 {
				case 1:
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				case 2:
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	push(t, host+"/flaky:v1", leakyImage(t))
	o := registryOptions(t, host)
	o.Jobs = 1 // keeps the fail/ok pattern per blob
	im := mustOpen(t, "registry:"+host+"/flaky:v1", o)
	x := mustWalk(t, im)
	if len(x.Layers) != 3 {
		t.Fatalf("layers %d", len(x.Layers))
	}
	// Config + three layers, three attempts each.
	if got := calls.Load(); got != 12 {
		t.Errorf("blob GETs %d, want 12 (each blob: 503, 429, 200)", got)
	}

	t.Run("gives up", func(t *testing.T) {
		down := testRegistry(t, func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "down", http.StatusServiceUnavailable)
			})
		})
		_, err := Open(context.Background(), "registry:"+down+"/x:v1", registryOptions(t, down))
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "try again later") {
			t.Fatalf("want ErrUnreachable with advice, got %v", err)
		}
	})
}

func TestRegistryErrors(t *testing.T) {
	host := testRegistry(t, nil)
	push(t, host+"/app:v1", leakyImage(t))

	// A plain-HTTP registry is refused unless listed, loopback or not.
	o := testOptions(t)
	o.Retry = fastRetry
	_, err := Open(context.Background(), "registry:"+host+"/app:v1", o)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "--insecure-registry "+host) {
		t.Errorf("plain HTTP: want ErrUnreachable naming --insecure-registry, got %v", err)
	}

	_, err = Open(context.Background(), "registry:"+host+"/app:nope", registryOptions(t, host))
	if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), "registry:"+host+"/app:nope: image not found") {
		t.Errorf("missing tag: got %v", err)
	}
	_, err = Open(context.Background(), "registry:"+host+"/other:v1", registryOptions(t, host))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing repository: got %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	for _, o := range []Options{registryOptions(t, closed), testOptions(t)} {
		_, err = Open(context.Background(), "registry:"+closed+"/app:v1", o)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "check the registry address") {
			t.Errorf("closed port: got %v", err)
		}
	}

	_, err = Open(context.Background(), "registry:UPPER/Case!!", testOptions(t))
	if !errors.Is(err, ErrInvalidRef) {
		t.Errorf("bad reference: got %v", err)
	}
}

func multiArch(t *testing.T) v1.ImageIndex {
	t.Helper()
	amd := imageOf(t, []v1.Layer{gzLayer(t, tarOf(t, reg("arch", "amd64")))}, nil)
	arm := imageOf(t, []v1.Layer{gzLayer(t, tarOf(t, reg("arch", "arm64")))}, nil)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	return mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}},
	)
}

func archOf(t *testing.T, im *Image) string {
	t.Helper()
	rec := &PathAnalyzer{Name: "arch/1", Paths: []string{"/arch"}, MaxBytes: 16,
		Func: func(_ *File, c []byte) ([]Record, error) { return []Record{{Kind: string(c)}}, nil }}
	x := mustWalk(t, im, rec)
	return x.Records()[0].Kind
}

func TestMultiArch(t *testing.T) {
	idx := multiArch(t)
	host := testRegistry(t, nil)
	r, err := name.ParseReference(host+"/multi:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if _, err := layoutWriteIndex(dir, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"registry:" + host + "/multi:v1", "oci-dir:" + dir} {
		for platform, want := range map[string]string{"linux/amd64": "amd64", "linux/arm64": "arm64", "linux/arm64/v8": "arm64"} {
			o := registryOptions(t, host)
			o.Platform = platform
			im := mustOpen(t, ref, o)
			if got := archOf(t, im); got != want {
				t.Errorf("%s --platform %s: got %s", ref, platform, got)
			}
			if strings.HasPrefix(ref, "registry:") && (im.IndexDigest() != idxDigest.String() || im.Digest() == idxDigest) {
				t.Errorf("%s: index digest %q, image digest %s; want the index %s and a platform image", ref, im.IndexDigest(), im.Digest(), idxDigest)
			}
		}
		o := registryOptions(t, host)
		o.Platform = "linux/s390x"
		_, err := Open(context.Background(), ref, o)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "linux/amd64, linux/arm64/v8") {
			t.Errorf("%s missing platform: want ErrNotFound listing platforms, got %v", ref, err)
		}
		o.Platform = "amd64"
		if _, err := Open(context.Background(), ref, o); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("%s bad platform: got %v", ref, err)
		}
	}
}

func TestNotAnImage(t *testing.T) {
	// An artifact: a manifest whose config is not an image config (a Helm chart here).
	art := mutate.ConfigMediaType(imageOf(t, []v1.Layer{gzLayer(t, tarOf(t, reg("a", "a")))}, nil),
		"application/vnd.cncf.helm.config.v1+json")
	host := testRegistry(t, nil)
	push(t, host+"/chart:v1", art)
	_, err := Open(context.Background(), "registry:"+host+"/chart:v1", registryOptions(t, host))
	if !errors.Is(err, ErrNotImage) {
		t.Errorf("artifact: got %v", err)
	}

	// Files that are no image at all.
	junk := filepath.Join(t.TempDir(), "junk.tar")
	if err := os.WriteFile(junk, tarOf(t, reg("hello.txt", "hi")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"docker-archive:" + junk, "oci-archive:" + junk, "oci-dir:" + t.TempDir()} {
		if _, err := Open(context.Background(), ref, testOptions(t)); !errors.Is(err, ErrNotImage) {
			t.Errorf("%s: want ErrNotImage, got %v", ref, err)
		}
	}
	gz := filepath.Join(t.TempDir(), "image.tar.gz")
	if err := os.WriteFile(gz, gzipOf(t, tarOf(t, reg("manifest.json", "[]"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), "docker-archive:"+gz, testOptions(t)); !errors.Is(err, ErrNotImage) || !strings.Contains(err.Error(), "decompress") {
		t.Errorf("gzipped archive: got %v", err)
	}
	for _, ref := range []string{"docker-archive:/no/such.tar", "oci-dir:/no/such", "dir:/no/such"} {
		if _, err := Open(context.Background(), ref, testOptions(t)); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: want ErrNotFound, got %v", ref, err)
		}
	}
}

func TestArchiveTags(t *testing.T) {
	img := leakyImage(t)
	layoutDir := writeLayout(t, img, "v1")
	if _, err := Open(context.Background(), "oci-dir:"+layoutDir+":v2", testOptions(t)); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "tags: v1") {
		t.Errorf("missing tag: got %v", err)
	}
	da := writeDockerArchive(t, img, "example.com/leaky:v1")
	mustOpen(t, "docker-archive:"+da+":v1", testOptions(t))
	if _, err := Open(context.Background(), "docker-archive:"+da+":v9", testOptions(t)); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tag: got %v", err)
	}
}
