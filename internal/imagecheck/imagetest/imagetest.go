// Package imagetest builds container images in Go for charter's tests: layers from a
// list of tar entries, images with a chosen config and history, and two ready-made
// images, a deliberately leaky one and a clean one. The fake secrets are assembled at
// run time, so the repository itself holds nothing key-shaped.
package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"io"
	"math/rand"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one tar entry of a layer.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg when zero
	Body     string
	Mode     int64
	Link     string
	UID, GID int
	// Major and Minor number a device node.
	Major, Minor int64
}

// File is a regular file with mode 0644.
func File(name, body string) Entry { return Entry{Name: name, Body: body, Mode: 0o644} }

// Dir is a directory with mode 0755.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Symlink is a symbolic link.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Link: target, Mode: 0o777}
}

// Whiteout deletes path from the layers below.
func Whiteout(path string) Entry {
	i := strings.LastIndexByte(path, '/')
	return Entry{Name: path[:i+1] + ".wh." + path[i+1:], Mode: 0o644}
}

// Tar writes entries as an uncompressed layer tar.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Link,
			Uid: e.UID, Gid: e.GID, Size: int64(len(e.Body)), Devmajor: e.Major, Devminor: e.Minor, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %s: %v", e.Name, err)
		}
		if h.Size > 0 {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer is a gzip layer of the entries.
func Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	b := Tar(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Step is one build step: a history entry and the layer it made, if any.
type Step struct {
	CreatedBy string
	Layer     v1.Layer // nil for a step that made no layer (ENV, EXPOSE, USER…)
}

// Image stacks the steps' layers on an empty image and sets the config and history.
func Image(t testing.TB, cfg v1.Config, steps ...Step) v1.Image {
	t.Helper()
	img := empty.Image
	var hist []v1.History
	for _, s := range steps {
		hist = append(hist, v1.History{CreatedBy: s.CreatedBy, EmptyLayer: s.Layer == nil})
		if s.Layer == nil {
			continue
		}
		var err error
		if img, err = mutate.AppendLayers(img, s.Layer); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config = cfg
	cf.History = hist
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// WriteOCI writes img as an OCI layout in dir, tagged tag; the reference is
// "oci-dir:DIR:TAG".
func WriteOCI(t testing.TB, dir, tag string, img v1.Image) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		t.Fatal(err)
	}
	return "oci-dir:" + dir + ":" + tag
}

// Secrets are the fake credentials planted in Leaky, for tests to check they never
// appear in output.
type Secrets struct {
	EnvToken      string // GitHub token in ENV API_TOKEN
	BuildArgToken string // npm token passed as build argument NPM_TOKEN
	DotenvValue   string // DATABASE_PASSWORD in /app/.env (added, then deleted)
	SSHKey        string // /root/.ssh/id_rsa
}

// All lists the values.
func (s Secrets) All() []string {
	return []string{s.EnvToken, s.BuildArgToken, s.DotenvValue, s.SSHKey}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[r.Intn(len(alnum))]
	}
	return string(b)
}

// NewSecrets assembles the fake credentials from a fixed seed.
func NewSecrets() Secrets {
	r := rand.New(rand.NewSource(7)) //nolint:gosec // fixed seed on purpose: reproducible fake secrets
	body := make([]byte, 300)
	_, _ = r.Read(body) // never fails
	enc := base64.StdEncoding.EncodeToString(body)
	var key strings.Builder
	key.WriteString("-----BEGIN " + "OPENSSH PRIVATE " + "KEY-----\n")
	for len(enc) > 70 {
		key.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	key.WriteString(enc + "\n-----END " + "OPENSSH PRIVATE " + "KEY-----\n")
	return Secrets{
		EnvToken:      "gh" + "p_" + randomString(r, 36),
		BuildArgToken: "np" + "m_" + randomString(r, 36),
		DotenvValue:   "Zq" + randomString(r, 22),
		SSHKey:        key.String(),
	}
}

// Leaky is an image with every problem the image checks look for: it runs as root, has
// a token in ENV and a token passed as a build argument (in its history), a .env added
// by one layer and deleted by the next, an SSH private key, a setuid shell, an SSH
// server and port 22, a world-writable upload directory, and shells and a package
// manager.
func Leaky(t testing.TB, s Secrets) v1.Image {
	t.Helper()
	base := Layer(t,
		Dir("bin/"), Dir("etc/"), Dir("usr/"), Dir("usr/bin/"), Dir("usr/sbin/"), Dir("srv/"),
		Entry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		Entry{Name: "bin/bash", Body: "\x7fELF\x02\x01\x01\x00fake shell", Mode: 0o4755},
		Symlink("bin/sh", "bash"),
		File("usr/bin/apt-get", "\x7fELF\x02\x01\x01\x00fake apt-get"),
		File("usr/sbin/sshd", "\x7fELF\x02\x01\x01\x00fake sshd"),
		File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
		Entry{Name: "etc/shadow", Body: "root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n", Mode: 0o640},
		Entry{Name: "srv/upload/", Type: tar.TypeDir, Mode: 0o777},
		Entry{Name: "srv/upload/readme.txt", Body: "drop files here\n", Mode: 0o666},
	)
	env := Layer(t, Dir("app/"), File("app/.env", "DATABASE_PASSWORD="+s.DotenvValue+"\nPORT=8080\n"))
	rm := Layer(t, Whiteout("app/.env"), File("app/app.py", "print('hello')\n"))
	key := Layer(t, Entry{Name: "root/", Type: tar.TypeDir, Mode: 0o700}, Entry{Name: "root/.ssh/", Type: tar.TypeDir, Mode: 0o700},
		Entry{Name: "root/.ssh/id_rsa", Body: s.SSHKey, Mode: 0o600})
	cfg := v1.Config{
		Env:          []string{"PATH=/usr/sbin:/usr/bin:/bin", "API_TOKEN=" + s.EnvToken},
		ExposedPorts: map[string]struct{}{"22/tcp": {}},
		Cmd:          []string{"/bin/sh"},
	}
	return Image(t, cfg,
		Step{CreatedBy: "/bin/sh -c #(nop) ADD file:4b0a6c2b in / ", Layer: base},
		Step{CreatedBy: "COPY .env /app/.env # buildkit", Layer: env},
		Step{CreatedBy: "ARG NPM_TOKEN", Layer: nil},
		Step{CreatedBy: "RUN |1 NPM_TOKEN=" + s.BuildArgToken + " /bin/sh -c rm /app/.env && echo built > /dev/null # buildkit", Layer: rm},
		Step{CreatedBy: "COPY id_rsa /root/.ssh/id_rsa # buildkit", Layer: key},
		Step{CreatedBy: "ENV API_TOKEN=" + s.EnvToken},
		Step{CreatedBy: "EXPOSE map[22/tcp:{}]"},
		Step{CreatedBy: `CMD ["/bin/sh"]`},
	)
}

// Clean is a small image with nothing to find: a static program, a non-root numeric
// user, no shell, no secrets.
func Clean(t testing.TB) v1.Image {
	t.Helper()
	app := Layer(t, Dir("app/"), Entry{Name: "app/hello", Body: "\x7fELF\x02\x01\x01\x00static hello", Mode: 0o755},
		File("app/config.yaml", "listen: :8080\nlog_level: info\n"),
		Entry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777})
	cfg := v1.Config{User: "65532:65532", Entrypoint: []string{"/app/hello"}, Env: []string{"PATH=/app"}}
	return Image(t, cfg,
		Step{CreatedBy: "COPY hello config.yaml /app/ # buildkit", Layer: app},
		Step{CreatedBy: "USER 65532:65532"},
		Step{CreatedBy: `ENTRYPOINT ["/app/hello"]`},
	)
}
