package imagecheck

import (
	"archive/tar"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/imagecheck/imagetest"
	"github.com/charterhq/charter/internal/report"
)

// scan writes img as an OCI layout, opens it, walks it with the checks' analyzers and
// runs the checks.
func scan(t *testing.T, img v1.Image, s Scanners) []report.Finding {
	t.Helper()
	dir := t.TempDir()
	ref := imagetest.WriteOCI(t, filepath.Join(dir, "oci"), "t", img)
	im, err := image.Open(context.Background(), ref, image.Options{CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = im.Close() })
	idx, err := im.Walk(context.Background(), Analyzers(s)...)
	if err != nil {
		t.Fatal(err)
	}
	return Check(im, idx, s)
}

func byRule(fs []report.Finding, id string) []report.Finding {
	var out []report.Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

func one(t *testing.T, fs []report.Finding, id, contains string) report.Finding {
	t.Helper()
	var hits []report.Finding
	for _, f := range byRule(fs, id) {
		if strings.Contains(f.Message, contains) {
			hits = append(hits, f)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("%s with %q: %d findings, want 1\n%s", id, contains, len(hits), dump(fs))
	}
	return hits[0]
}

func dump(fs []report.Finding) string {
	b, _ := json.MarshalIndent(fs, "", "  ")
	return string(b)
}

func layerOf(t *testing.T, f report.Finding, want int) {
	t.Helper()
	if f.Location.LayerIndex == nil || *f.Location.LayerIndex != want || !strings.HasPrefix(f.Location.Layer, "sha256:") {
		t.Errorf("%s %q: layer %v %q, want layer %d with its diffID", f.Rule, f.Message, f.Location.LayerIndex, f.Location.Layer, want)
	}
}

func TestLeakyImage(t *testing.T) {
	s := imagetest.NewSecrets()
	fs := scan(t, imagetest.Leaky(t, s), All())

	root := one(t, fs, "IMG001", "sets no user")
	if root.Severity != report.High || root.Location.Image == "" {
		t.Errorf("IMG001: %+v", root)
	}

	env := one(t, fs, "IMG002", "Env API_TOKEN")
	if env.Evidence != "ghp_****************" || !strings.HasPrefix(env.Location.Instruction, "ENV API_TOKEN=") {
		t.Errorf("IMG002 env: evidence %q, instruction %q", env.Evidence, env.Location.Instruction)
	}
	arg := one(t, fs, "IMG002", "build argument NPM_TOKEN")
	layerOf(t, arg, 2)
	if arg.Evidence != "npm_****************" || !strings.Contains(arg.Location.Instruction, "rm /app/.env") {
		t.Errorf("IMG002 build arg: evidence %q, instruction %q", arg.Evidence, arg.Location.Instruction)
	}
	if n := len(byRule(fs, "IMG002")); n != 2 {
		t.Errorf("IMG002: %d findings, want 2 (the ENV history entry repeats the config)\n%s", n, dump(byRule(fs, "IMG002")))
	}

	key := one(t, fs, "IMG003", "/root/.ssh/id_rsa")
	layerOf(t, key, 3)
	if key.Location.Path != "/root/.ssh/id_rsa" || key.Location.Instruction != "COPY id_rsa /root/.ssh/id_rsa # buildkit" ||
		!strings.Contains(key.Message, "SSH private key") || key.Evidence == "" || key.Location.Line != 1 {
		t.Errorf("IMG003: %+v", key)
	}
	if n := len(byRule(fs, "IMG003")); n != 1 {
		t.Errorf("IMG003: %d findings, want 1 (the shadow file has no hash)\n%s", n, dump(byRule(fs, "IMG003")))
	}

	dotenv := one(t, fs, "IMG004", "/app/.env")
	layerOf(t, dotenv, 1)
	if !strings.Contains(dotenv.Message, "deleted by layer 2") || !strings.HasPrefix(dotenv.Evidence, "Zq") {
		t.Errorf("IMG004: %+v", dotenv)
	}

	suid := one(t, fs, "IMG005", "/bin/bash")
	layerOf(t, suid, 0)
	if !strings.Contains(suid.Message, "setuid root (mode 4755)") {
		t.Errorf("IMG005: %q", suid.Message)
	}
	ww := one(t, fs, "IMG006", "/srv/upload")
	if !strings.Contains(ww.Message, "1 entry below it is world-writable") || len(byRule(fs, "IMG006")) != 1 {
		t.Errorf("IMG006: %s", dump(byRule(fs, "IMG006")))
	}
	port := one(t, fs, "IMG007", "port 22/tcp")
	if port.Location.Instruction != "EXPOSE map[22/tcp:{}]" {
		t.Errorf("IMG007 port instruction %q", port.Location.Instruction)
	}
	layerOf(t, one(t, fs, "IMG007", "/usr/sbin/sshd"), 0)
	sh := one(t, fs, "IMG008", "shells")
	if !strings.Contains(sh.Message, "shells: /bin/bash, /bin/sh; package managers: /usr/bin/apt-get") || sh.Severity != report.Info {
		t.Errorf("IMG008: %q", sh.Message)
	}
	if n := len(byRule(fs, "IMG010")); n != 0 {
		t.Errorf("IMG010 on a well-formed image: %s", dump(byRule(fs, "IMG010")))
	}

	out := dump(fs)
	for _, v := range s.All() {
		for _, line := range strings.Split(v, "\n") {
			if len(line) >= 8 && strings.Contains(out, line) {
				t.Errorf("secret %q… appears unredacted in the findings", line[:8])
			}
		}
	}
}

func TestCleanImage(t *testing.T) {
	fs := scan(t, imagetest.Clean(t), All())
	if len(fs) != 0 {
		t.Fatalf("clean image: %s", dump(fs))
	}
}

func TestScannersSelectChecks(t *testing.T) {
	img := imagetest.Leaky(t, imagetest.NewSecrets())
	for _, tc := range []struct {
		s         Scanners
		want, not []string
	}{
		{Scanners{Config: true}, []string{"IMG001", "IMG007"}, []string{"IMG002", "IMG003", "IMG004", "IMG005", "IMG006", "IMG008"}},
		{Scanners{Secret: true}, []string{"IMG002", "IMG003", "IMG004"}, []string{"IMG001", "IMG005", "IMG006", "IMG007", "IMG008"}},
		{Scanners{File: true}, []string{"IMG005", "IMG006", "IMG007", "IMG008"}, []string{"IMG001", "IMG002", "IMG003", "IMG004"}},
	} {
		fs := scan(t, img, tc.s)
		for _, id := range tc.want {
			if len(byRule(fs, id)) == 0 {
				t.Errorf("%+v: no %s", tc.s, id)
			}
		}
		for _, id := range tc.not {
			if len(byRule(fs, id)) != 0 {
				t.Errorf("%+v: unexpected %s", tc.s, id)
			}
		}
	}
}

func TestUserResolution(t *testing.T) {
	passwd := imagetest.Layer(t, imagetest.Dir("etc/"),
		imagetest.File("etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/false\n"))
	for _, tc := range []struct {
		user string
		root bool
	}{
		{"", true}, {"root", true}, {"0", true}, {"0:0", true}, {"root:app", true},
		{"toor", true}, {"toor:1000", true},
		{"app", false}, {"1000", false}, {"1000:0", false}, {"65532:65532", false}, {"nobody", false},
	} {
		img := imagetest.Image(t, v1.Config{User: tc.user},
			imagetest.Step{CreatedBy: "ADD rootfs /", Layer: passwd},
			imagetest.Step{CreatedBy: "USER " + tc.user})
		fs := byRule(scan(t, img, Scanners{Config: true}), "IMG001")
		if got := len(fs) == 1; got != tc.root {
			t.Errorf("user %q: root = %v, want %v (%s)", tc.user, got, tc.root, dump(fs))
		}
		if tc.root && tc.user != "" && fs[0].Location.Instruction != "USER "+tc.user {
			t.Errorf("user %q: instruction %q", tc.user, fs[0].Location.Instruction)
		}
	}
}

func TestConfigSecrets(t *testing.T) {
	s := imagetest.NewSecrets()
	cfg := v1.Config{
		Env:    []string{"DB_PASSWORD=hunter2hunter2", "PASSWORD_FILE=/run/secrets/db", "TOKEN_REF=$TOKEN", "GPG_KEYS=ABCDEF0123456789"},
		Labels: map[string]string{"deploy.key": s.EnvToken, "org.opencontainers.image.source": "https://example.com/repo"},
		Cmd:    []string{"app", "--registry-token", s.BuildArgToken},
	}
	layer := imagetest.Layer(t, imagetest.File("app/x", "x"))
	img := imagetest.Image(t, cfg,
		imagetest.Step{CreatedBy: "/bin/sh -c #(nop)  ENV OLD_SECRET=s3cr3t-value-from-an-earlier-env"},
		imagetest.Step{CreatedBy: "|2 GITHUB_TOKEN=abc123def456 MSG=hello world /bin/sh -c make", Layer: layer},
		imagetest.Step{CreatedBy: "ENV DB_PASSWORD=hunter2hunter2"},
		imagetest.Step{CreatedBy: "ENV API_KEY=k9x"},
	)
	fs := scan(t, img, Scanners{Secret: true})
	one(t, fs, "IMG002", "Env DB_PASSWORD")
	one(t, fs, "IMG002", "label deploy.key")
	one(t, fs, "IMG002", "Cmd holds a secret (")
	one(t, fs, "IMG002", "ENV OLD_SECRET in the history")
	gh := one(t, fs, "IMG002", "build argument GITHUB_TOKEN")
	layerOf(t, gh, 0)
	if strings.Contains(gh.Location.Instruction, "abc123def456") || !strings.Contains(gh.Location.Instruction, "[REDACTED]") {
		t.Errorf("build-arg value not masked in the instruction: %q", gh.Location.Instruction)
	}
	short := one(t, fs, "IMG002", "ENV API_KEY in the history")
	if short.Location.Instruction != "ENV API_KEY=[REDACTED]" || short.Evidence != "***" {
		t.Errorf("a 3-byte secret: instruction %q, evidence %q", short.Location.Instruction, short.Evidence)
	}
	if n := len(byRule(fs, "IMG002")); n != 6 {
		t.Errorf("IMG002: %d findings, want 6\n%s", n, dump(fs))
	}
	if out := dump(fs); strings.Contains(out, "hunter2hunter2") || strings.Contains(out, "s3cr3t-value") {
		t.Errorf("secret value in findings:\n%s", out)
	}
}

func TestBuildArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"|2 A=1 B=2 /bin/sh -c make", "A=1,B=2"},
		{"RUN |1 NPM_TOKEN=npm_x /bin/sh -c npm ci", "NPM_TOKEN=npm_x"},
		{"|2 MSG=hello world TOKEN=t /bin/sh -c x", "MSG=hello world,TOKEN=t"},
		{"|1 A= /bin/sh -c x", "A="},
		{"/bin/sh -c make", ""},
		{"|x A=1", ""},
		{"|2 /bin/sh -c x", ""},
	} {
		var got []string
		for _, kv := range buildArgs(tc.in) {
			got = append(got, kv[0]+"="+kv[1])
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("buildArgs(%q) = %q, want %q", tc.in, strings.Join(got, ","), tc.want)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	s := imagetest.NewSecrets()
	base := imagetest.Layer(t,
		imagetest.File("etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		imagetest.File("usr/lib/python3/dist-packages/twisted/test/server.pem", s.SSHKey),
		imagetest.File("usr/local/lib/node_modules/x/test/fixtures/id_rsa", s.SSHKey),
		imagetest.File("usr/share/doc/pkg/example.env.txt", "TOKEN="+s.EnvToken),
		imagetest.File("etc/shadow", "root:$6$saltsalt$"+strings.Repeat("h", 86)+":19000:0:99999:7:::\n"),
		imagetest.File("app/config/settings.json", `{"github_token": "`+s.EnvToken+`"}`),
		imagetest.File("app/.npmrc", "//registry.npmjs.org/:_authToken="+s.BuildArgToken+"\n"),
		imagetest.File("app/lib.so", "token="+s.EnvToken),
		imagetest.File("app/empty.pem", ""),
		imagetest.File("app/.env", "A=1\n"),
	)
	over := imagetest.Layer(t, imagetest.File("app/.env", "B=2\n"), imagetest.Whiteout("app/.npmrc"))
	img := imagetest.Image(t, v1.Config{User: "1000"},
		imagetest.Step{CreatedBy: "COPY . /", Layer: base},
		imagetest.Step{CreatedBy: "RUN fix", Layer: over})
	fs := scan(t, img, Scanners{Secret: true})
	one(t, fs, "IMG003", "/etc/shadow")
	js := one(t, fs, "IMG003", "/app/config/settings.json")
	if !strings.Contains(js.Message, "GitHub") || js.Location.Line != 1 {
		t.Errorf("settings.json: %+v", js)
	}
	envNow := one(t, fs, "IMG003", "/app/.env")
	layerOf(t, envNow, 1)
	one(t, fs, "IMG004", "/app/.npmrc")
	if n := len(byRule(fs, "IMG003")); n != 3 {
		t.Errorf("IMG003: %d findings, want 3 (CA bundle, package fixtures, docs, .so, empty key skipped)\n%s", n, dump(byRule(fs, "IMG003")))
	}
	if n := len(byRule(fs, "IMG004")); n != 1 {
		t.Errorf("IMG004: %d findings, want 1 (a .env replaced by another .env is reported once, as IMG003)\n%s", n, dump(byRule(fs, "IMG004")))
	}
}

func TestHostileLayer(t *testing.T) {
	hostile := imagetest.Layer(t,
		imagetest.File("../../etc/cron.d/evil", "* * * * * root sh\n"),
		imagetest.Symlink("app/escape", "../../../../etc/shadow"),
		imagetest.Entry{Name: "dev/sda", Type: tar.TypeBlock, Mode: 0o660, Major: 8},
		imagetest.Entry{Name: "dev/null", Type: tar.TypeChar, Mode: 0o666, Major: 1, Minor: 3},
		imagetest.Entry{Name: "dev/zero", Type: tar.TypeBlock, Mode: 0o666, Major: 1, Minor: 5},
		imagetest.Entry{Name: "dev/tty", Type: tar.TypeChar, Mode: 0o666, Major: 8, Minor: 0},
	)
	var many []imagetest.Entry
	for i := 0; i < maxAnomalies+5; i++ {
		many = append(many, imagetest.File("../x"+strings.Repeat("y", i), "z"))
	}
	img := imagetest.Image(t, v1.Config{User: "1000"},
		imagetest.Step{CreatedBy: "ADD evil.tar /", Layer: hostile},
		imagetest.Step{CreatedBy: "ADD many.tar /", Layer: imagetest.Layer(t, many...)})
	fs := scan(t, img, Scanners{File: true})
	layerOf(t, one(t, fs, "IMG010", `path-traversal entry "../../etc/cron.d/evil"`), 0)
	one(t, fs, "IMG010", "symlink-escape")
	one(t, fs, "IMG010", `device-node entry "dev/sda"`)
	one(t, fs, "IMG010", `device-node entry "dev/zero"`) // a block device at a standard name
	one(t, fs, "IMG010", `device-node entry "dev/tty"`)  // the wrong numbers
	one(t, fs, "IMG010", "layer 1: 5 more path-traversal entries")
	if n := len(byRule(fs, "IMG010")); n != 5+maxAnomalies+1 {
		t.Errorf("IMG010: %d findings, want %d (the standard /dev/null is not one)\n%s", n, 5+maxAnomalies+1, dump(byRule(fs, "IMG010")))
	}
}

func TestRulesMetadata(t *testing.T) {
	cat := report.NewCatalog(Rules())
	for _, id := range []string{"IMG001", "IMG002", "IMG003", "IMG004", "IMG005", "IMG006", "IMG007", "IMG008", "IMG010"} {
		r, ok := cat.Lookup(id)
		if !ok || r.Category != "image" || len(r.Description) < 80 || len(r.Remediation) < 40 || len(r.References) == 0 {
			t.Errorf("%s: incomplete metadata %+v", id, r)
		}
	}
	if r, _ := cat.Lookup("CIS-DI-0008"); r.ID != "IMG005" {
		t.Errorf("CIS-DI-0008 → %s, want IMG005", r.ID)
	}
	if r, _ := cat.Lookup("DS-0004"); r.ID != "IMG007" {
		t.Errorf("DS-0004 → %s, want IMG007", r.ID)
	}
}
