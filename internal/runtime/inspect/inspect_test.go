package inspect

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/runtime/profile"
)

func testProfile(t *testing.T, cfg *v1.ConfigFile, deny ...string) *profile.Profile {
	t.Helper()
	pf, err := policy.Load(filepath.Join("testdata", "charter.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Build(profile.Source{Ref: "docker:charter-probe:it", Config: cfg}, pf, profile.Options{SeccompDeny: deny})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rules(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	slices.Sort(out)
	return out
}

// TestDockerFixtures reads `docker inspect` documents captured from dockerd 20.10 (Debian 12's docker.io; the
// containers scripts/it/profile.sh starts) and checks the drift each shows.
func TestDockerFixtures(t *testing.T) {
	cases := []struct {
		file string
		deny []string
		want []string
	}{
		// Started with the flags `charter profile --format docker` printed.
		{"docker-good.json", nil, nil},
		// The same, but the charter narrows seccomp and the container runs Docker's default.
		{"docker-good.json", []string{"ptrace"}, []string{"PRF006"}},
		// A custom seccomp profile (charter's, denying getpriority) is read: it denies what
		// the charter denies, and limits below the profile's are fine...
		{"docker-narrow.json", []string{"getpriority"}, nil},
		// ...but it allows ptrace, which this charter denies.
		{"docker-narrow.json", []string{"ptrace", "getpriority"}, []string{"PRF006"}},
		// --cap-add SYS_ADMIN --security-opt seccomp=unconfined, nothing else.
		{"docker-bad.json", nil, []string{"PRF003", "PRF004", "PRF005", "PRF006", "PRF007", "PRF008", "PRF009", "PRF013"}},
		// Podman 4.3's compat API: with the profile's flags (less seccomp: Podman shows
		// none) and its defaults (11 capabilities, 2048 pids, the image's user).
		{"podman-good.json", nil, nil},
		{"podman-bad.json", nil, []string{"PRF003", "PRF004", "PRF005", "PRF007", "PRF008", "PRF009", "PRF013"}},
		// --privileged --user 0 --pid host -v DIR:/data --memory 1g.
		{"docker-worse.json", nil, []string{"PRF001", "PRF003", "PRF007", "PRF008", "PRF009", "PRF010", "PRF011", "PRF012", "PRF013"}},
	}
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		dc, err := ParseDocker(data)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		got := rules(Compare(testProfile(t, nil, c.deny...), dc.Settings))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s (deny %v): rules %v, want %v", c.file, c.deny, got, c.want)
		}
	}
}

func TestDockerSettings(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "docker-worse.json"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := ParseDocker(data)
	if err != nil {
		t.Fatal(err)
	}
	s := dc.Settings
	if s.Location.Resource != "container/worse" || s.User != "0" || !s.Privileged || s.MemoryBytes != 1<<30 {
		t.Errorf("%+v", s)
	}
	if !slices.Equal(s.HostNamespaces, []string{"pid"}) || !slices.Equal(s.WritableMounts, []string{"/data"}) {
		t.Errorf("namespaces %v mounts %v", s.HostNamespaces, s.WritableMounts)
	}
	for _, bad := range []string{"", "{", "[]", `{"Id":""}`, `{"Id":"x","HostConfig":{"Memory":"a lot"}}`} {
		if _, err := ParseDocker([]byte(bad)); err == nil {
			t.Errorf("ParseDocker(%q) accepted", bad)
		}
	}
}

func TestEffectiveCaps(t *testing.T) {
	cases := []struct {
		add, drop, want []string
	}{
		{nil, nil, DefaultCaps},
		{nil, []string{"ALL"}, []string{}},
		{[]string{"cap_net_admin"}, []string{"all"}, []string{"NET_ADMIN"}},
		{[]string{"SYS_ADMIN"}, []string{"NET_RAW", "CAP_MKNOD"}, nil},
		{[]string{"ALL"}, nil, []string{"ALL"}},
	}
	for _, c := range cases {
		got := EffectiveCaps(c.add, c.drop)
		if c.want == nil {
			if !slices.Contains(got, "SYS_ADMIN") || slices.Contains(got, "NET_RAW") || slices.Contains(got, "MKNOD") {
				t.Errorf("%v %v: %v", c.add, c.drop, got)
			}
			continue
		}
		if len(got) != len(c.want) || len(got) > 0 && !slices.Equal(got, c.want) {
			t.Errorf("%v %v: %v, want %v", c.add, c.drop, got, c.want)
		}
	}
}

// TestKubernetesRoundTrip: the manifests `charter profile --format kubernetes` writes
// show no drift from the profile they came from.
func TestKubernetesRoundTrip(t *testing.T) {
	for _, deny := range [][]string{nil, {"ptrace"}} {
		p := testProfile(t, &v1.ConfigFile{Config: v1.Config{User: "1000:1000", ExposedPorts: map[string]struct{}{"8080/tcp": {}}}}, deny...)
		doc, err := p.Kubernetes()
		if err != nil {
			t.Fatal(err)
		}
		ss, err := ParseKubernetes("profile.yaml", doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 {
			t.Fatalf("%d containers, want 1", len(ss))
		}
		if fs := Compare(p, ss[0]); len(fs) > 0 {
			t.Errorf("deny %v: drift in charter's own manifest: %v", deny, fs)
		}
		lines := strings.Split(string(doc), "\n")
		if l := ss[0].Location.Line; ss[0].Location.Resource != "Deployment//charter-probe" || l < 1 || lines[l-1] != "apiVersion: apps/v1" {
			t.Errorf("location %+v", ss[0].Location)
		}
	}
}

func TestKubernetesDrift(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "risky.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := ParseKubernetes("risky.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range ss {
		got[s.Location.Resource+"["+s.Location.Container+"]"] = rules(Compare(testProfile(t, nil), s))
	}
	want := map[string][]string{
		"Deployment/shop/web[web]":     {"PRF001", "PRF003", "PRF004", "PRF005", "PRF006", "PRF007", "PRF008", "PRF010", "PRF012"},
		"Deployment/shop/web[sidecar]": {"PRF001", "PRF003", "PRF007", "PRF008", "PRF010", "PRF011"},
		"CronJob//report[report]":      nil,
	}
	if len(got) != len(want) {
		t.Errorf("containers %v", got)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: %v, want %v", k, got[k], w)
		}
	}
	for _, s := range ss {
		if s.Location.Container == "web" && (s.Location.Line != 7 || s.Location.Path != "risky.yaml") {
			t.Errorf("web located at %s:%d", s.Location.Path, s.Location.Line)
		}
	}
}

func TestKubernetesErrors(t *testing.T) {
	cases := map[string]string{
		"bad yaml":     "kind: Pod\n  spec: [",
		"alias":        "a: &x [1]\nb: *x\n",
		"bad quantity": "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources: {limits: {memory: lots}}\n",
	}
	for name, doc := range cases {
		if _, err := ParseKubernetes("m.yaml", []byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "m.yaml") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	ss, err := ParseKubernetes("debug.yaml", []byte("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n  initContainers: [{name: i}]\n  ephemeralContainers: [{name: debugger, securityContext: {privileged: true}}]\n"))
	if err != nil || len(ss) != 3 || ss[2].Location.Container != "debugger" || !ss[2].Privileged {
		t.Errorf("init, app and ephemeral containers: %+v %v", ss, err)
	}
	ss, err = ParseKubernetes("list.yaml", []byte("kind: List\nitems:\n- kind: Pod\n  metadata: {name: p}\n  spec: {containers: [{name: c}]}\n"))
	if err != nil || len(ss) != 1 {
		t.Errorf("List: %v %v", ss, err)
	}
}

func TestCustomSeccompAllowAll(t *testing.T) {
	data := []byte(`{"Id":"x","Name":"/x","Config":{"User":"1000"},"HostConfig":{"ReadonlyRootfs":true,"CapDrop":["ALL"],` +
		`"SecurityOpt":["no-new-privileges","seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}"],` +
		`"Memory":1,"NanoCpus":1000000,"PidsLimit":1,"NetworkMode":"none"}}`)
	dc, err := ParseDocker(data)
	if err != nil {
		t.Fatal(err)
	}
	fs := Compare(testProfile(t, nil), dc.Settings)
	if got := rules(fs); !slices.Equal(got, []string{"PRF006"}) || !strings.Contains(fs[0].Message, "SCMP_ACT_ALLOW") {
		t.Errorf("%v", fs)
	}
}

// TestCharterUserByName: a runtime.user name cannot be resolved without the image, so a
// manifest's numeric user is not drift, a different name is, and root always is.
func TestCharterUserByName(t *testing.T) {
	pf, err := policy.Parse("charter.yaml", []byte("version: 1\nruntime: { user: app }\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Build(profile.Source{Ref: "registry.example.com/app:1"}, pf, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{"1000": nil, "1000:1000": nil, "app": nil, "web": {"PRF002"}, "0": {"PRF001"}, "root:root": {"PRF001"}}
	for user, want := range cases {
		s := Settings{User: user, ReadOnlyRoot: true, NoNewPrivileges: true, Seccomp: SeccompDefault, MemoryBytes: 1, MilliCPU: 1, Pids: 1}
		var got []string
		for _, f := range Compare(p, s) {
			got = append(got, f.Rule)
		}
		if !slices.Equal(got, want) {
			t.Errorf("user %q: %v, want %v", user, got, want)
		}
	}
}

func TestPodmanHost(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	yes := func(string) bool { return true }
	no := func(string) bool { return false }
	if h := PodmanHost(env(map[string]string{"CONTAINER_HOST": "tcp://h:1", "XDG_RUNTIME_DIR": "/run/user/1"}), yes); h != "tcp://h:1" {
		t.Error(h)
	}
	if h := PodmanHost(env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1"}), yes); h != "unix:///run/user/1/podman/podman.sock" {
		t.Error(h)
	}
	if h := PodmanHost(env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1"}), no); h != "unix:///run/podman/podman.sock" {
		t.Error(h)
	}
}
