package cli

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // dpkg's md5sums format, not a security use
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/imagecheck/imagetest"
)

// The image the vulnerability tests scan: a Debian 12 base (a dpkg status with an
// openssl older than DSA-5532-1's fix, a glibc that has Looney Tunables' fix, and apt),
// a layer with this machine's python3-cryptography metadata (cryptography 38.0.4), and a
// layer with two Go programs: this machine's gofmt and a web app built against
// golang.org/x/net v0.35.0. examples/osv holds advisories for all of them.

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`

// History entries of vulnImage's layers.
const (
	baseStep   = "/bin/sh -c #(nop) ADD file:6d1c3e3b2a in / "
	pythonStep = "RUN /bin/sh -c apt-get install -y --no-install-recommends python3-cryptography # buildkit"
	appStep    = "COPY webapp gofmt /app/ # buildkit"
)

// testdataStatus is the planted dpkg status.
func testdataStatus(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostFile returns a file of this machine, or fallback when it is not there.
func hostFile(path, fallback string) string {
	b, err := os.ReadFile(path) //nolint:gosec // fixed paths of this machine
	if err != nil {
		return fallback
	}
	return string(b)
}

// cryptographyMetadata is Debian's python3-cryptography 38.0.4 dist-info METADATA: this
// machine's copy when it has one.
func cryptographyMetadata() string {
	return hostFile("/usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA",
		"Metadata-Version: 2.1\nName: cryptography\nVersion: 38.0.4\nLicense: BSD-3-Clause OR Apache-2.0\n\n")
}

// gofmtBinary is this machine's gofmt, a real Go program: the catalog reports its
// toolchain as stdlib.
func gofmtBinary(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command to find gofmt: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "bin", "gofmt"))
	if err != nil {
		t.Skipf("no gofmt in GOROOT: %v", err)
	}
	return string(b)
}

// webappBinary is an executable carrying the build information the Go linker wrote
// into a program built from module example.com/webapp against golang.org/x/net v0.35.0
// (the bytes were taken from such a build on this machine): the 32-byte header with
// inline strings, the toolchain version, and the module information between the
// linker's 16-byte sentinels. Compiling it in the test would take minutes here.
func webappBinary() string {
	const (
		infoStart = "3077af0c9274080241e1c107e6d618e6"
		infoEnd   = "f932433186182072008242104116d8f2"
	)
	start, _ := hex.DecodeString(infoStart)
	end, _ := hex.DecodeString(infoEnd)
	mod := string(start) + "path\texample.com/webapp\n" +
		"mod\texample.com/webapp\t(devel)\t\n" +
		"dep\tgolang.org/x/net\tv0.35.0\th1:T5GQRQb2y08kTAByq9L4/bz8cipCdA8FbRTXewonqY8=\n" +
		"build\t-buildmode=exe\nbuild\t-compiler=gc\nbuild\t-trimpath=true\nbuild\tCGO_ENABLED=1\n" +
		"build\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v1\n" + string(end)
	b := make([]byte, 64)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	hdr := make([]byte, 32)
	copy(hdr, "\xff Go buildinf:")
	hdr[14], hdr[15] = 8, 2 // pointer size, inline strings
	b = append(b, hdr...)
	b = binary.AppendUvarint(b, uint64(len("go1.26.8")))
	b = append(b, "go1.26.8"...)
	b = binary.AppendUvarint(b, uint64(len(mod)))
	b = append(b, mod...)
	return string(append(b, make([]byte, 2048)...))
}

// vulnLayers are vulnImage's three layers; the first is its base image.
func vulnLayers(t testing.TB) (base, python, app v1.Layer) {
	t.Helper()
	base = imagetest.Layer(t,
		imagetest.Dir("etc/"), imagetest.File("etc/os-release", debianOSRelease),
		imagetest.Dir("var/"), imagetest.Dir("var/lib/"), imagetest.Dir("var/lib/dpkg/"),
		imagetest.File("var/lib/dpkg/status", testdataStatus(t)),
		imagetest.Entry{Name: "tmp/", Type: '5', Mode: 0o1777},
	)
	dist := "usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/"
	python = imagetest.Layer(t,
		imagetest.Dir("usr/"), imagetest.Dir("usr/lib/"), imagetest.Dir("usr/lib/python3/"),
		imagetest.Dir("usr/lib/python3/dist-packages/"), imagetest.Dir(dist),
		imagetest.File(dist+"METADATA", cryptographyMetadata()),
	)
	app = imagetest.Layer(t, imagetest.Dir("app/"),
		imagetest.Entry{Name: "app/webapp", Body: webappBinary(), Mode: 0o755},
		imagetest.Entry{Name: "app/gofmt", Body: gofmtBinary(t), Mode: 0o755},
	)
	return base, python, app
}

// vulnImage is the image with planted vulnerable packages. pythonStep replaces the
// python layer's history entry (to plant a build argument); "" keeps the default.
func vulnImage(t testing.TB, pythonHistory string) v1.Image {
	t.Helper()
	if pythonHistory == "" {
		pythonHistory = pythonStep
	}
	base, python, app := vulnLayers(t)
	cfg := v1.Config{User: "65532:65532", Entrypoint: []string{"/app/webapp"}, Env: []string{"PATH=/app"}}
	return imagetest.Image(t, cfg,
		imagetest.Step{CreatedBy: baseStep, Layer: base},
		imagetest.Step{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`},
		imagetest.Step{CreatedBy: pythonHistory, Layer: python},
		imagetest.Step{CreatedBy: appStep, Layer: app},
		imagetest.Step{CreatedBy: "USER 65532:65532"},
		imagetest.Step{CreatedBy: `ENTRYPOINT ["/app/webapp"]`},
	)
}

// vulnBaseImage is vulnImage's base on its own, for --base.
func vulnBaseImage(t testing.TB) v1.Image {
	t.Helper()
	base, _, _ := vulnLayers(t)
	return imagetest.Image(t, v1.Config{Cmd: []string{"bash"}},
		imagetest.Step{CreatedBy: baseStep, Layer: base},
		imagetest.Step{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`},
	)
}

// md5sum is a dpkg md5sums line's digest.
func md5sum(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // dpkg's format
	return hex.EncodeToString(sum[:])
}

// tamperedImage adds two tricks to vulnImage's base: a package whose program a later
// layer replaced, and a status file a later layer edited to claim openssl is fixed.
func tamperedImage(t testing.TB) v1.Image {
	t.Helper()
	base, _, _ := vulnLayers(t)
	hello := "\x7fELF\x02\x01\x01\x00 GNU hello 2.10\n"
	helloStatus := "\nPackage: hello\nStatus: install ok installed\nPriority: optional\nSection: devel\n" +
		"Installed-Size: 280\nMaintainer: Santiago Vila <sanvila@debian.org>\nArchitecture: amd64\n" +
		"Version: 2.10-3\nDepends: libc6 (>= 2.34)\nDescription: example package based on GNU hello\n"
	pkg := imagetest.Layer(t,
		imagetest.Dir("usr/"), imagetest.Dir("usr/bin/"),
		imagetest.Entry{Name: "usr/bin/hello", Body: hello, Mode: 0o755},
		imagetest.Dir("var/"), imagetest.Dir("var/lib/"), imagetest.Dir("var/lib/dpkg/"), imagetest.Dir("var/lib/dpkg/info/"),
		imagetest.File("var/lib/dpkg/info/hello.list", "/.\n/usr\n/usr/bin\n/usr/bin/hello\n"),
		imagetest.File("var/lib/dpkg/info/hello.md5sums", md5sum(hello)+"  usr/bin/hello\n"),
		imagetest.File("var/lib/dpkg/status", testdataStatus(t)+helloStatus),
	)
	swap := imagetest.Layer(t, imagetest.Dir("usr/"), imagetest.Dir("usr/bin/"),
		imagetest.Entry{Name: "usr/bin/hello", Body: "\x7fELF\x02\x01\x01\x00 something else entirely\n", Mode: 0o755})
	edited := strings.ReplaceAll(testdataStatus(t)+helloStatus, "Version: 3.0.11-1~deb12u1", "Version: 3.0.11-1~deb12u2")
	rewrite := imagetest.Layer(t, imagetest.Dir("var/"), imagetest.Dir("var/lib/"), imagetest.Dir("var/lib/dpkg/"),
		imagetest.File("var/lib/dpkg/status", edited))
	cfg := v1.Config{User: "65532:65532", Entrypoint: []string{"/usr/bin/hello"}}
	return imagetest.Image(t, cfg,
		imagetest.Step{CreatedBy: baseStep, Layer: base},
		imagetest.Step{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`},
		imagetest.Step{CreatedBy: "RUN /bin/sh -c apt-get install -y hello # buildkit", Layer: pkg},
		imagetest.Step{CreatedBy: "COPY hello /usr/bin/hello # buildkit", Layer: swap},
		imagetest.Step{CreatedBy: "RUN /bin/sh -c sed -i s/deb12u1/deb12u2/ /var/lib/dpkg/status # buildkit", Layer: rewrite},
		imagetest.Step{CreatedBy: `ENTRYPOINT ["/usr/bin/hello"]`},
	)
}

// testNow is the clock of every in-process run in these tests.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// runAt runs charter in-process with its cache in cache, at now, with extra environment.
func runAt(t *testing.T, cache string, now time.Time, environ map[string]string, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "CHARTER_CACHE_DIR" {
				return cache
			}
			return environ[k]
		},
		Now:        func() time.Time { return now },
		IsTerminal: func(w any) bool { return terminal && w == io.Writer(&errb) },
	}
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// snapshotDir is the bundled OSV snapshot.
var snapshotDir = filepath.Join("..", "..", "examples", "osv")

// cacheWithDB returns a cache directory whose vulnerability database holds the bundled
// snapshot, built at testNow.
func cacheWithDB(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	code, out, errOut := runAt(t, cache, testNow, nil, false, "db", "update", "--source", snapshotDir)
	if code != ExitPass {
		t.Fatalf("db update --source %s: exit %d\n%s%s", snapshotDir, code, out, errOut)
	}
	return cache
}

// ociRef writes img as an OCI layout and returns its oci-dir: reference.
func ociRef(t *testing.T, img v1.Image) string {
	t.Helper()
	return imagetest.WriteOCI(t, filepath.Join(t.TempDir(), "oci"), "v1", img)
}

// imageWithoutCloser stacks the layers with a history that has no base image's closing
// CMD: nothing in the config says where the base ends.
func imageWithoutCloser(t testing.TB, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	steps := []imagetest.Step{
		{CreatedBy: baseStep, Layer: layers[0]},
		{CreatedBy: pythonStep, Layer: layers[1]},
		{CreatedBy: appStep, Layer: layers[2]},
	}
	return imagetest.Image(t, cfg, steps...)
}
