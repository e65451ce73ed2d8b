package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/diff"
	"github.com/charterhq/charter/internal/imagecheck/imagetest"
)

// The images the inventory and diff tests use, built in Go: a Debian 12 base (os-release
// and a dpkg status with openssl before DSA-5532-1's fix), release 1 of an app on it (a
// layer with log4j-core 2.14.1, running as root with an API key in its environment), and
// release 2 (a rebuilt base with the fixed openssl, log4j-core 2.17.1, a non-root user).

const (
	log4jStep = "COPY lib/ /app/lib/ # buildkit"
	plantedID = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" // an API-key-shaped value in ENV
)

// jar is a Java archive carrying Maven metadata, as the build tools write it.
func jar(t testing.TB, group, artifact, ver string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\nImplementation-Version: " + ver + "\r\n\r\n",
		"META-INF/maven/" + group + "/" + artifact + "/pom.properties": "#Created by Apache Maven 3.8.1\nversion=" + ver + "\ngroupId=" + group + "\nartifactId=" + artifact + "\n",
		"org/apache/logging/log4j/core/Logger.class":                   "\xca\xfe\xba\xbe fake class",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func debianBase(t testing.TB, status string) v1.Layer {
	t.Helper()
	return imagetest.Layer(t,
		imagetest.Dir("etc/"), imagetest.File("etc/os-release", debianOSRelease),
		imagetest.Dir("var/"), imagetest.Dir("var/lib/"), imagetest.Dir("var/lib/dpkg/"),
		imagetest.File("var/lib/dpkg/status", status),
		imagetest.Dir("bin/"), imagetest.Entry{Name: "bin/sh", Body: "\x7fELF\x02\x01\x01\x00fake shell", Mode: 0o755})
}

type fleetImages struct {
	base, app1, app2, hotfix string // oci-dir references
}

// buildFleet writes the base image and the app's two releases as OCI layouts.
func buildFleet(t *testing.T) fleetImages {
	t.Helper()
	dir := t.TempDir()
	status1 := testdataStatus(t)
	status2 := strings.ReplaceAll(status1, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2")
	base1, base2 := debianBase(t, status1), debianBase(t, status2)
	lib := func(ver string) v1.Layer {
		return imagetest.Layer(t, imagetest.Dir("app/"), imagetest.Dir("app/lib/"),
			imagetest.File("app/lib/log4j-core-"+ver+".jar", jar(t, "org.apache.logging.log4j", "log4j-core", ver)))
	}
	baseCfg := v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"bash"}}
	var f fleetImages
	f.base = imagetest.WriteOCI(t, filepath.Join(dir, "base"), "12", imagetest.Image(t, baseCfg,
		imagetest.Step{CreatedBy: baseStep, Layer: base1}, imagetest.Step{CreatedBy: `CMD ["bash"]`}))
	cfg1 := v1.Config{
		Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PAYMENTS_API_KEY=" + plantedID, "JAVA_OPTS=-Xmx512m"},
		Entrypoint:   []string{"java", "-jar", "/app/app.jar"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "22/tcp": {}},
		Labels:       map[string]string{"org.opencontainers.image.version": "1.0"},
		WorkingDir:   "/app",
	}
	f.app1 = imagetest.WriteOCI(t, filepath.Join(dir, "app1"), "1", imagetest.Image(t, cfg1,
		imagetest.Step{CreatedBy: baseStep, Layer: base1}, imagetest.Step{CreatedBy: log4jStep, Layer: lib("2.14.1")},
		imagetest.Step{CreatedBy: `ENTRYPOINT ["java","-jar","/app/app.jar"]`}))
	hotfixCfg := cfg1
	hotfixCfg.Labels = map[string]string{"org.opencontainers.image.version": "1.0.1"}
	f.hotfix = imagetest.WriteOCI(t, filepath.Join(dir, "hotfix"), "1.0.1", imagetest.Image(t, hotfixCfg,
		imagetest.Step{CreatedBy: baseStep, Layer: base1}, imagetest.Step{CreatedBy: log4jStep, Layer: lib("2.14.1")}))
	cfg2 := cfg1
	cfg2.User = "65532:65532"
	cfg2.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PAYMENTS_API_KEY=" + plantedID + "x", "LOG_FORMAT=json"}
	cfg2.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cfg2.Labels = map[string]string{"org.opencontainers.image.version": "2.0", "org.opencontainers.image.source": "https://git.example.com/payments/api"}
	f.app2 = imagetest.WriteOCI(t, filepath.Join(dir, "app2"), "2", imagetest.Image(t, cfg2,
		imagetest.Step{CreatedBy: baseStep, Layer: base2}, imagetest.Step{CreatedBy: log4jStep, Layer: lib("2.17.1")},
		imagetest.Step{CreatedBy: "USER 65532:65532"}, imagetest.Step{CreatedBy: `ENTRYPOINT ["java","-jar","/app/app.jar"]`}))
	return f
}

// charterWith runs charter with the given environment variables.
func charterWith(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// withOSV imports the bundled OSV snapshot into a fresh cache directory.
func withOSV(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	if code, _, stderr := charterWith(t, vars, "db", "update", "--source", filepath.Join("..", "..", "examples", "osv")); code != 0 {
		t.Fatalf("db update: exit %d: %s", code, stderr)
	}
	return vars
}

func TestInventorySQLite(t *testing.T) {
	testInventoryEndToEnd(t, filepath.Join(t.TempDir(), "inv.db"))
}

// TestInventoryPostgres runs the same commands against the PostgreSQL that
// scripts/it/inventory.sh starts.
func TestInventoryPostgres(t *testing.T) {
	testInventoryEndToEnd(t, postgresSchema(t, "cli"))
}

// postgresSchema is a DSN for a schema of its own in the PostgreSQL scripts/it/inventory.sh
// starts (CHARTER_TEST_POSTGRES), dropped when the test ends; it skips the test without one.
func postgresSchema(t *testing.T, prefix string) string {
	t.Helper()
	dsn := os.Getenv("CHARTER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CHARTER_TEST_POSTGRES is not set (scripts/it/inventory.sh starts a PostgreSQL and sets it)")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("%s%d", prefix, time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
		_ = db.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func testInventoryEndToEnd(t *testing.T, loc string) {
	f := buildFleet(t)
	vars := withOSV(t)
	vars["CHARTER_INVENTORY_DB"] = loc
	inv := func(args ...string) (int, string, string) {
		t.Helper()
		return charterWith(t, vars, append([]string{"inventory"}, args...)...)
	}
	// the hotfix image is only known by its SBOM
	sbomPath := filepath.Join(t.TempDir(), "hotfix.cdx.json")
	if code, _, stderr := charterWith(t, vars, "sbom", f.hotfix, "-o", "cyclonedx-json", "--output", sbomPath); code != 0 {
		t.Fatalf("sbom: exit %d: %s", code, stderr)
	}
	code, out, stderr := inv("add", f.base, f.app1, f.app2, "sbom:"+sbomPath)
	if code != 0 || strings.Count(out, "added ") != 4 {
		t.Fatalf("add: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = inv("add", f.app1)
	if code != 0 || !strings.HasPrefix(out, "present ") {
		t.Errorf("adding again: exit %d: %s", code, out)
	}
	app1SBOM := filepath.Join(t.TempDir(), "app1.cdx.json")
	if code, _, stderr := charterWith(t, vars, "sbom", f.app1, "-o", "cyclonedx-json", "--output", app1SBOM); code != 0 {
		t.Fatalf("sbom: exit %d: %s", code, stderr)
	}
	code, out, _ = inv("add", "sbom:"+app1SBOM)
	if code != 0 || !strings.HasPrefix(out, "present ") {
		t.Errorf("adding an image's SBOM after the image: exit %d: %s", code, out)
	}
	code, _, stderr = inv("add", "oci-dir:/nonexistent:1", f.base)
	if code != 2 || !strings.Contains(stderr, "oci-dir:/nonexistent:1") {
		t.Errorf("a bad reference: exit %d: %s", code, stderr)
	}

	digest1 := imageDigest(t, vars, f.app1)
	if code, _, stderr := inv("deployed", digest1, "--cluster", "prod-eu", "--namespace", "payments", "--workload", "Deployment/api"); code != 0 {
		t.Fatalf("deployed: %d %s", code, stderr)
	}

	// Log4Shell from an OSV file: release 1 and its SBOM, not release 2
	code, out, stderr = inv("affected", filepath.Join("..", "inventory", "testdata", "GHSA-jfh8-c2jx-5x3c.json"))
	if code != 1 {
		t.Fatalf("affected: exit %d, want 1\n%s%s", code, out, stderr)
	}
	for _, want := range []string{f.app1, "sbom:" + sbomPath, "2.14.1", "2.15.0", "/app/lib/log4j-core-2.14.1.jar", "prod-eu/payments/Deployment/api", "2 image(s) affected"} {
		if !strings.Contains(out, want) {
			t.Errorf("affected table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, f.app2) {
		t.Errorf("release 2 (log4j 2.17.1) listed as affected:\n%s", out)
	}

	// the same question as a query, as JSON and CSV
	code, out, stderr = inv("query", "--purl", "pkg:maven/org.apache.logging.log4j/log4j-core", "--range", "<2.17.1", "-o", "json")
	if code != 0 {
		t.Fatalf("query: exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema  string `json:"schema"`
		Images  int    `json:"images"`
		Results []struct {
			Image struct {
				Digest      string `json:"digest"`
				Reference   string `json:"reference"`
				Deployments []struct {
					Namespace string `json:"namespace"`
				} `json:"deployments"`
			} `json:"image"`
			Package struct {
				Version string `json:"version"`
				Path    string `json:"path"`
			} `json:"package"`
			Layer string `json:"layer"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("query JSON: %v\n%s", err, out)
	}
	if doc.Schema != inventorySchema || doc.Images != 2 || len(doc.Results) != 2 {
		t.Fatalf("query JSON = %+v", doc)
	}
	for _, r := range doc.Results {
		if r.Image.Reference == f.app1 && (r.Image.Digest != digest1 || !strings.HasPrefix(r.Layer, "sha256:") || len(r.Image.Deployments) != 1) {
			t.Errorf("release 1 result = %+v", r)
		}
	}
	code, out, _ = inv("query", "--ecosystem", "deb", "--name", "openssl", "--range", "<3.0.11-1~deb12u2", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) < 2 || rows[0][0] != "reference" {
		t.Fatalf("csv: exit %d %v\n%s", code, err, out)
	}
	for _, row := range rows[1:] {
		if row[0] == f.app2 {
			t.Errorf("release 2 has the fixed openssl, yet: %v", row)
		}
	}
	if code, out, _ := inv("query", "--purl", "pkg:maven/org.example/nothing"); code != 0 || !strings.Contains(out, "no recorded image holds it") {
		t.Errorf("an empty query: exit %d: %s", code, out)
	}
	if code, _, stderr := inv("query", "--purl", "pkg:maven/x/y", "--range", ">=1 <<2"); code != 2 || !strings.Contains(stderr, "--range") {
		t.Errorf("a bad range: exit %d: %s", code, stderr)
	}

	// by ID from the local database, and by alias
	for _, id := range []string{"DSA-5532-1", "CVE-2023-5363"} {
		code, out, stderr := inv("affected", id)
		if code != 1 || !strings.Contains(out, f.app1) || !strings.Contains(out, f.base) || strings.Contains(out, f.app2) || !strings.Contains(out, "3.0.11-1~deb12u2") {
			t.Errorf("affected %s: exit %d\n%s%s", id, code, out, stderr)
		}
	}
	if code, _, stderr := inv("affected", "CVE-1999-0001"); code != 2 || !strings.Contains(stderr, "not in the vulnerability database") {
		t.Errorf("an unknown advisory: exit %d: %s", code, stderr)
	}
	if code, out, _ := inv("affected", "GO-2025-3503"); code != 0 || !strings.Contains(out, "no recorded image is affected") {
		t.Errorf("an advisory nothing has: exit %d: %s", code, out)
	}

	code, out, _ = inv("list")
	if code != 0 || !strings.Contains(out, "4 image(s)") || !strings.Contains(out, "debian-12") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, _, stderr := inv("remove", f.app1, "nothing:here"); code != 2 || !strings.Contains(stderr, "nothing:here") {
		t.Errorf("remove: exit %d: %s", code, stderr)
	}
	if code, out, _ := inv("list", "-o", "json"); code != 0 || strings.Count(out, `"reference"`) != 3 {
		t.Errorf("list after remove: exit %d\n%s", code, out)
	}
}

// imageDigest reads an image's manifest digest from its SBOM.
func imageDigest(t *testing.T, vars map[string]string, ref string) string {
	t.Helper()
	code, out, stderr := charterWith(t, vars, "scan", ref, "--scanners", "config", "-o", "json", "--fail-on", "none")
	if code != 0 {
		t.Fatalf("scan %s: exit %d: %s", ref, code, stderr)
	}
	r := decodeReport(t, out)
	if r.Target.Digest == "" {
		t.Fatalf("no digest for %s", ref)
	}
	return r.Target.Digest
}

func TestScanRecordsInInventory(t *testing.T) {
	f := buildFleet(t)
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	db := filepath.Join(t.TempDir(), "inv.db")
	code, _, stderr := charterWith(t, vars, "scan", f.app1, "--scanners", "config,package", "--inventory", "--inventory-db", db, "--fail-on", "none")
	if code != 0 {
		t.Fatalf("scan --inventory: exit %d: %s", code, stderr)
	}
	code, out, _ := charterWith(t, vars, "inventory", "query", "--db", db, "--name", "log4j-core")
	if code != 0 || !strings.Contains(out, f.app1) || !strings.Contains(out, "2.14.1") {
		t.Errorf("query after scan --inventory: exit %d\n%s", code, out)
	}
}

func decodeDiff(t *testing.T, s string) diff.Result {
	t.Helper()
	var r diff.Result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("diff JSON: %v\n%s", err, s)
	}
	return r
}

func TestDiffBaseAndApp(t *testing.T) {
	f := buildFleet(t)
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	code, out, stderr := charterWith(t, vars, "diff", f.base, f.app1, "-o", "json")
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "no vulnerability database") {
		t.Errorf("no note about the missing database: %s", stderr)
	}
	r := decodeDiff(t, out)
	if len(r.Packages.Added) != 1 || r.Packages.Added[0].Name != "log4j-core" || r.Packages.Added[0].Version != "2.14.1" ||
		len(r.Packages.Removed) != 0 || len(r.Packages.Changed) != 0 {
		t.Errorf("packages = %+v", r.Packages)
	}
	if l := r.Layers; l.Shared != 1 || l.SharedPrefix != 1 || len(l.Added) != 1 || len(l.Removed) != 0 || l.Added[0].CreatedBy != log4jStep || l.SizeB <= l.SizeA {
		t.Errorf("layers = %+v", l)
	}
	changes := configSet(r.Config)
	for _, want := range []string{"env PAYMENTS_API_KEY added", "env JAVA_OPTS added", "ports 8080/tcp added", "ports 22/tcp added",
		"entrypoint  added", "cmd  removed", "workdir  added", "labels org.opencontainers.image.version added"} {
		if !changes[want] {
			t.Errorf("config changes lack %q: %v", want, changes)
		}
	}
	if !hasNew(r, "IMG007") {
		t.Errorf("port 22 (IMG007) is not a new finding: %+v", r.Findings.New)
	}
	if strings.Contains(out, plantedID) || strings.Contains(stderr, plantedID) {
		t.Error("an environment value was printed")
	}
}

func configSet(cs []diff.ConfigChange) map[string]bool {
	m := map[string]bool{}
	for _, c := range cs {
		m[c.Field+" "+c.Key+" "+c.Change] = true
	}
	return m
}

func hasNew(r diff.Result, rule string) bool {
	for _, f := range r.Findings.New {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

func TestDiffReleases(t *testing.T) {
	f := buildFleet(t)
	vars := withOSV(t)
	code, out, stderr := charterWith(t, vars, "diff", f.app1, f.app2, "-o", "json", "--fail-on-new", "high")
	if code != 0 {
		t.Fatalf("diff 1 → 2: exit %d (release 2 brings nothing new at HIGH)\n%s", code, stderr)
	}
	r := decodeDiff(t, out)
	changed := map[string]string{}
	for _, c := range r.Packages.Changed {
		changed[c.Name] = c.From + " → " + c.To
	}
	for name, want := range map[string]string{"libssl3": "3.0.11-1~deb12u1 → 3.0.11-1~deb12u2", "openssl": "3.0.11-1~deb12u1 → 3.0.11-1~deb12u2", "log4j-core": "2.14.1 → 2.17.1"} {
		if changed[name] != want {
			t.Errorf("%s changed %q, want %q (all: %v)", name, changed[name], want, changed)
		}
	}
	fixed := map[string]bool{}
	for _, fd := range r.Findings.Fixed {
		fixed[fd.Rule] = true
	}
	for _, rule := range []string{"IMG001", "IMG007", "CVE-2023-5363"} {
		if !fixed[rule] {
			t.Errorf("%s is not fixed by release 2: %v", rule, fixed)
		}
	}
	if l := r.Layers; l.Shared != 0 || len(l.Added) != 2 || len(l.Removed) != 2 {
		t.Errorf("layers = %+v (the rebuilt base shares nothing)", l)
	}
	changes := configSet(r.Config)
	for _, want := range []string{"user  added", "env PAYMENTS_API_KEY changed", "env JAVA_OPTS removed", "env LOG_FORMAT added", "ports 22/tcp removed",
		"labels org.opencontainers.image.version changed", "labels org.opencontainers.image.source added"} {
		if !changes[want] {
			t.Errorf("config changes lack %q: %v", want, changes)
		}
	}

	// going back is a regression: root, SSH port, the openssl advisory
	code, out, _ = charterWith(t, vars, "diff", f.app2, f.app1, "--fail-on-new", "high")
	if code != 1 || !strings.Contains(out, "FAIL (fail-on-new HIGH)") || !regexp.MustCompile(`new +HIGH +IMG001 `).MatchString(out) {
		t.Errorf("diff 2 → 1: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"~ maven  log4j-core  2.17.1 → 2.14.1", "~ env PAYMENTS_API_KEY (value changed)", "- user 65532:65532", "Layers: 0 shared"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, plantedID) {
		t.Error("an environment value was printed")
	}
}

// TestWriteFleet writes the inventory and diff test images as OCI layouts into
// $CHARTER_WRITE_FLEET (base/, app1/, app2/, hotfix/), for the examples in
// docs/inventory.md and docs/diff.md; it does nothing otherwise.
func TestWriteFleet(t *testing.T) {
	dir := os.Getenv("CHARTER_WRITE_FLEET")
	if dir == "" {
		t.Skip("CHARTER_WRITE_FLEET is not set")
	}
	f := buildFleet(t)
	for _, ref := range []string{f.base, f.app1, f.app2, f.hotfix} {
		src := strings.TrimPrefix(ref, "oci-dir:")
		src = src[:strings.LastIndexByte(src, ':')]
		if err := os.CopyFS(filepath.Join(dir, filepath.Base(src)), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInventoryAddProgressOnTerminalOnly(t *testing.T) {
	f := buildFleet(t)
	for _, terminal := range []bool{true, false} {
		var out, errb bytes.Buffer
		db := filepath.Join(t.TempDir(), "inv.db")
		env := Env{
			Stdout: &out, Stderr: &errb,
			Getenv:     func(k string) string { return map[string]string{"CHARTER_INVENTORY_DB": db}[k] },
			IsTerminal: func(w any) bool { return terminal && w == io.Writer(&errb) },
		}
		if code := Run(context.Background(), []string{"inventory", "add", f.base, f.app1}, env); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if drawn := strings.Contains(errb.String(), "/2 images ("); drawn != terminal {
			t.Errorf("terminal=%v: progress drawn=%v: %q", terminal, drawn, errb.String())
		}
	}
}

func TestScanRecordsCreationTime(t *testing.T) {
	img := imagetest.Image(t, v1.Config{Cmd: []string{"/app"}},
		imagetest.Step{CreatedBy: "COPY app /app", Layer: imagetest.Layer(t, imagetest.File("app", "x"))})
	img, err := mutate.CreatedAt(img, v1.Time{Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	ref := imagetest.WriteOCI(t, t.TempDir(), "1", img)
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	db := filepath.Join(t.TempDir(), "inv.db")
	code, _, stderr := charterWith(t, vars, "scan", ref, "--scanners", "config,package", "--inventory", "--inventory-db", db, "--fail-on", "none")
	if code != 0 {
		t.Fatalf("scan --inventory: exit %d: %s", code, stderr)
	}
	code, out, stderr := charterWith(t, vars, "inventory", "list", "--db", db, "-o", "json")
	if code != 0 || !strings.Contains(out, `"created": "2026-03-01T12:00:00Z"`) {
		t.Errorf("inventory list after scan --inventory: exit %d, want the config's creation time\n%s%s", code, out, stderr)
	}
}

// TestInventoryUnrecordedAndPrune: places recorded for images never added are the
// inventory's blind spots, listed by list --unrecorded and counted by list; prune forgets
// places not seen for a while.
func TestInventoryUnrecordedAndPrune(t *testing.T) {
	db := filepath.Join(t.TempDir(), "inv.db")
	cache := t.TempDir()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const stale, fresh = "sha256:5ta1e00000000000000000000000000000000000000000000000000000000001", "sha256:f7e5400000000000000000000000000000000000000000000000000000000002"
	at := func(when time.Time, args ...string) (int, string, string) {
		t.Helper()
		return runAt(t, cache, when, nil, false, append(append([]string{"inventory"}, args...), "--db", db)...)
	}
	if code, _, stderr := at(now.Add(-40*24*time.Hour), "deployed", stale, "--cluster", "prod", "--namespace", "shop", "--workload", "Deployment/old"); code != 0 {
		t.Fatalf("deployed: exit %d: %s", code, stderr)
	}
	if code, _, stderr := at(now, "deployed", fresh, "--cluster", "prod", "--namespace", "shop", "--workload", "Deployment/web",
		"--container", "web", "--container", "metrics"); code != 0 {
		t.Fatalf("deployed: exit %d: %s", code, stderr)
	}
	if code, _, stderr := at(now, "deployed", fresh, "--namespace", "shop", "--workload", "Deployment/x", "--container", "a,b"); code != 2 || !strings.Contains(stderr, "comma") {
		t.Errorf("a container name with a comma: exit %d: %s", code, stderr)
	}
	code, out, _ := at(now, "list")
	if code != 0 || !strings.Contains(out, "0 image(s)") || !strings.Contains(out, "2 place(s) run an image that is not in the inventory") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = at(now, "list", "--unrecorded")
	if code != 0 || !strings.Contains(out, "prod/shop/Deployment/web (metrics, web)") || !strings.Contains(out, stale) || !strings.Contains(out, "2 place(s)") {
		t.Errorf("list --unrecorded: exit %d\n%s", code, out)
	}
	code, out, _ = at(now, "list", "--unrecorded", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || rows[2][3] != "metrics web" || rows[2][4] != fresh {
		t.Errorf("list --unrecorded -o csv: exit %d %v\n%s", code, err, out)
	}
	if code, _, stderr := at(now, "prune", "--unseen-for", "soon"); code != 2 || !strings.Contains(stderr, "--unseen-for") {
		t.Errorf("a bad age: exit %d: %s", code, stderr)
	}
	if code, _, stderr := at(now, "prune"); code != 2 || !strings.Contains(stderr, "--unseen-for is required") {
		t.Errorf("no age: exit %d: %s", code, stderr)
	}
	if code, out, stderr := at(now, "prune", "--unseen-for", "30d"); code != 0 || !strings.Contains(out, "forgot 1 place(s) last seen before 2026-10-26T12:00:00Z") {
		t.Errorf("prune: exit %d: %s%s", code, out, stderr)
	}
	code, out, _ = at(now, "list", "-o", "json")
	var doc struct {
		Images     []json.RawMessage `json:"images"`
		Unrecorded []struct {
			Digest     string   `json:"digest"`
			Containers []string `json:"containers"`
		} `json:"unrecorded"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Images) != 0 || len(doc.Unrecorded) != 1 ||
		doc.Unrecorded[0].Digest != fresh || fmt.Sprint(doc.Unrecorded[0].Containers) != "[metrics web]" {
		t.Errorf("list -o json after prune: exit %d %v\n%s", code, err, out)
	}
}

// TestInventoryAddedThroughIndex: a multi-platform image added by its tag is recorded as
// the platform image it picked, with the index it came through, so a place recorded
// under the index's digest (what a pod spec pins) is where the platform image runs, and
// no blind spot.
func TestInventoryAddedThroughIndex(t *testing.T) {
	host := testRegistryHost(t)
	var idx v1.ImageIndex = empty.Index
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	r, err := name.ParseReference(host+"/multi:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	indexDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pushRandom(t, host+"/single:1")
	db := filepath.Join(t.TempDir(), "inv.db")
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	inv := func(args ...string) (int, string, string) {
		t.Helper()
		return charterWith(t, vars, append(append([]string{"inventory"}, args...), "--db", db)...)
	}
	for _, ref := range []string{"registry:" + host + "/multi:1", "registry:" + host + "/single:1"} {
		if code, _, stderr := inv("add", "--insecure-registry", host, "--platform", "linux/arm64", ref); code != 0 {
			t.Fatalf("add %s: exit %d: %s", ref, code, stderr)
		}
	}
	if code, _, stderr := inv("deployed", indexDigest.String(), "--cluster", "prod", "--namespace", "shop", "--workload", "Deployment/multi"); code != 0 {
		t.Fatalf("deployed: exit %d: %s", code, stderr)
	}
	code, out, _ := inv("list", "-o", "json")
	var doc struct {
		Images []struct {
			Reference   string `json:"reference"`
			Digest      string `json:"digest"`
			Index       string `json:"index"`
			Deployments []struct {
				Workload string `json:"workload"`
			} `json:"deployments"`
		} `json:"images"`
		Unrecorded []json.RawMessage `json:"unrecorded"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Images) != 2 || len(doc.Unrecorded) != 0 {
		t.Fatalf("list: exit %d %v\n%s", code, err, out)
	}
	for _, im := range doc.Images {
		multi := strings.Contains(im.Reference, "/multi:")
		switch {
		case multi && (im.Index != indexDigest.String() || im.Digest == indexDigest.String() || len(im.Deployments) != 1 ||
			im.Deployments[0].Workload != "Deployment/multi"):
			t.Errorf("the multi-platform image: %+v, want the arm64 image, its index %s, running in Deployment/multi", im, indexDigest)
		case !multi && (im.Index != "" || len(im.Deployments) != 0):
			t.Errorf("the single image: %+v, want no index and no place", im)
		}
	}
}
