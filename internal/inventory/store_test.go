package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/vulndb"
)

// The same suite runs against SQLite (always) and PostgreSQL (when CHARTER_TEST_POSTGRES
// names a server: scripts/it/inventory.sh starts one). Each PostgreSQL test gets its
// own schema, so runs never see each other's rows.

func openSQLiteTest(t testing.TB) (Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inventory.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// postgresLocation returns a location on the test server with a fresh schema, or skips.
func postgresLocation(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("CHARTER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CHARTER_TEST_POSTGRES is not set (scripts/it/inventory.sh starts a PostgreSQL and sets it)")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	schema := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), rand.Intn(1e6)) //nolint:gosec // a test schema name
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("creating schema on %s: %v", Describe(dsn), err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			_ = db.Close()
		}
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

func openPostgresTest(t testing.TB) (Store, string) {
	t.Helper()
	loc := postgresLocation(t)
	s, err := Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, loc
}

func TestSQLite(t *testing.T)   { runSuite(t, openSQLiteTest) }
func TestPostgres(t *testing.T) { runSuite(t, openPostgresTest) }

func runSuite(t *testing.T, open func(testing.TB) (Store, string)) {
	for name, test := range map[string]func(*testing.T, Store, string){
		"AddIsIdempotent":    testAddIdempotent,
		"QueryByPURL":        testQueryByPURL,
		"QueryByName":        testQueryByName,
		"AffectedMaven":      testAffectedMaven,
		"AffectedDebian":     testAffectedDebian,
		"Deployments":        testDeployments,
		"DeploymentsBatch":   testDeploymentsBatch,
		"PlacesAndPrune":     testPlacesAndPrune,
		"AddedThroughIndex":  testAddedThroughIndex,
		"Remove":             testRemove,
		"SBOMWithoutDigest":  testSBOMWithoutDigest,
		"SchemaTooNew":       testSchemaTooNew,
		"MigrateFromV1":      testMigrateFromV1,
		"ConcurrentAdds":     testConcurrentAdds,
		"ReopenKeepsContent": testReopen,
		"AddAllInOneBatch":   testAddAll,
	} {
		t.Run(name, func(t *testing.T) {
			s, loc := open(t)
			test(t, s, loc)
		})
	}
}

const (
	digestA = "sha256:aaaa000000000000000000000000000000000000000000000000000000000001"
	digestB = "sha256:bbbb000000000000000000000000000000000000000000000000000000000002"
	digestC = "sha256:cccc000000000000000000000000000000000000000000000000000000000003"
)

func maven(artifact, ver string, layer int) Package {
	return Package{Ecosystem: "maven", Name: artifact, Version: ver,
		PURL:       "pkg:maven/org.apache.logging.log4j/" + artifact + "@" + ver,
		LayerIndex: layer, Path: "/app/lib/" + artifact + "-" + ver + ".jar"}
}

func deb(name, ver, src, srcVer string, layer int) Package {
	purl := "pkg:deb/debian/" + name + "@" + ver + "?arch=amd64&distro=debian-12"
	if src != name {
		purl += "&upstream=" + src
	}
	return Package{Ecosystem: "deb", Name: name, Version: ver, SourceName: src, SourceVersion: srcVer,
		PURL: purl, LayerIndex: layer, Path: "/var/lib/dpkg/status"}
}

// fleet records three images: api (log4j-core 2.14.1, openssl 3.0.11-1~deb12u1),
// worker (log4j-core 2.17.1, patched openssl) and web (no Java).
func fleet(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	base := []string{"sha256:1111111111111111111111111111111111111111111111111111111111111111"}
	imgs := []*Image{
		{Digest: digestA, Reference: "registry.example.com/api:1.4", Distro: "debian-12",
			Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Layers:  append(base, "sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"),
			Packages: []Package{
				deb("libssl3", "3.0.11-1~deb12u1", "openssl", "3.0.11-1~deb12u1", 0),
				deb("openssl", "3.0.11-1~deb12u1", "openssl", "3.0.11-1~deb12u1", 0),
				deb("bash", "5.2.15-2+b2", "bash", "5.2.15-2", 0),
				maven("log4j-core", "2.14.1", 1),
				maven("log4j-api", "2.14.1", 1),
			}},
		{Digest: digestB, Reference: "registry.example.com/worker:2.0", Distro: "debian-12",
			Layers: append(base, "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"),
			Packages: []Package{
				deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2", 0),
				deb("bash", "5.2.15-2+b2", "bash", "5.2.15-2", 0),
				maven("log4j-core", "2.17.1", 1),
			}},
		{Digest: digestC, Reference: "registry.example.com/web:7", Distro: "debian-12",
			Layers: base,
			Packages: []Package{
				deb("bash", "5.2.15-2+b2", "bash", "5.2.15-2", 0),
				{Ecosystem: "npm", Name: "@acme/log4j-core", Version: "1.0.0", PURL: "pkg:npm/%40acme/log4j-core@1.0.0", LayerIndex: 0, Path: "/srv/node_modules/@acme/log4j-core/package.json"},
			}},
	}
	for _, img := range imgs {
		added, err := s.Add(ctx, img)
		if err != nil || !added {
			t.Fatalf("Add(%s) = %v, %v; want added", img.Reference, added, err)
		}
	}
}

func refs(rs []Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Image.Reference+" "+r.Package.Name+"@"+r.Package.Version)
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func testAddIdempotent(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	again := &Image{Digest: digestA, Reference: "registry.example.com/api:latest", Packages: []Package{maven("log4j-core", "9.9.9", 0)}}
	added, err := s.Add(ctx, again)
	if err != nil || added {
		t.Fatalf("second Add = %v, %v; want not added", added, err)
	}
	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 3 {
		t.Fatalf("%d images, want 3", len(imgs))
	}
	var api Summary
	for _, im := range imgs {
		if im.Digest == digestA {
			api = im
		}
	}
	if api.Reference != "registry.example.com/api:latest" || api.Packages != 5 || api.Distro != "debian-12" {
		t.Errorf("api after re-add = %+v", api)
	}
	if !api.Created.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || api.Added.IsZero() {
		t.Errorf("api times = created %v added %v", api.Created, api.Added)
	}
	res, err := Search(ctx, s, Query{PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@9.9.9"})
	if err != nil || len(res) != 0 {
		t.Errorf("the re-added packages were stored: %v %v", refs(res), err)
	}
}

func testQueryByPURL(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	for _, c := range []struct {
		purl, rng string
		want      []string
	}{
		{"pkg:maven/org.apache.logging.log4j/log4j-core", "<2.17.1", []string{"registry.example.com/api:1.4 log4j-core@2.14.1"}},
		{"pkg:maven/org.apache.logging.log4j/log4j-core", "", []string{"registry.example.com/api:1.4 log4j-core@2.14.1", "registry.example.com/worker:2.0 log4j-core@2.17.1"}},
		{"pkg:maven/org.apache.logging.log4j/log4j-core", ">=2.0-beta9, <2.15.0 || >= 2.17.1", []string{"registry.example.com/api:1.4 log4j-core@2.14.1", "registry.example.com/worker:2.0 log4j-core@2.17.1"}},
		{"pkg:maven/org.apache.logging.log4j/log4j-core", ">2.17.1", nil},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1", "", []string{"registry.example.com/worker:2.0 log4j-core@2.17.1"}},
		{"pkg:maven/org.example/log4j-core", "", nil},
		{"pkg:deb/debian/libssl3?distro=debian-12", "<3.0.11-1~deb12u2", []string{"registry.example.com/api:1.4 libssl3@3.0.11-1~deb12u1"}},
		{"pkg:npm/%40acme/log4j-core", "", []string{"registry.example.com/web:7 @acme/log4j-core@1.0.0"}},
	} {
		rng, err := ParseRange(c.rng)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Search(ctx, s, Query{PURL: c.purl, Range: rng})
		if err != nil {
			t.Fatalf("%s %s: %v", c.purl, c.rng, err)
		}
		equal(t, c.purl+" "+c.rng, refs(res), c.want)
	}
	res, err := Search(ctx, s, Query{PURL: "pkg:maven/org.apache.logging.log4j/log4j-core", Range: mustRange(t, "<2.17.1")})
	if err != nil || len(res) != 1 {
		t.Fatal(res, err)
	}
	r := res[0]
	if r.Image.Digest != digestA || r.Package.LayerIndex != 1 || r.Layer != "sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2" ||
		r.Package.Path != "/app/lib/log4j-core-2.14.1.jar" || r.Package.PURL != "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" {
		t.Errorf("result = %+v", r)
	}
}

func mustRange(t *testing.T, s string) Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testQueryByName(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	for _, c := range []struct {
		eco, name, rng string
		want           []string
	}{
		// openssl is libssl3's source package
		{"deb", "openssl", "<3.0.11-1~deb12u2", []string{"registry.example.com/api:1.4 libssl3@3.0.11-1~deb12u1", "registry.example.com/api:1.4 openssl@3.0.11-1~deb12u1"}},
		{"", "org.apache.logging.log4j:log4j-core", "", []string{"registry.example.com/api:1.4 log4j-core@2.14.1", "registry.example.com/worker:2.0 log4j-core@2.17.1"}},
		{"npm", "@acme/log4j-core", "", []string{"registry.example.com/web:7 @acme/log4j-core@1.0.0"}},
		{"", "LOG4J_API", "", []string{"registry.example.com/api:1.4 log4j-api@2.14.1"}},
		{"maven", "bash", "", nil},
	} {
		res, err := Search(ctx, s, Query{Ecosystem: c.eco, Name: c.name, Range: mustRange(t, c.rng)})
		if err != nil {
			t.Fatalf("%s %s: %v", c.eco, c.name, err)
		}
		equal(t, c.eco+" "+c.name+" "+c.rng, refs(res), c.want)
	}
	if _, err := Search(ctx, s, Query{Name: "bash", Range: mustRange(t, "<é")}); err == nil {
		t.Error("a range with an invalid version was accepted")
	}
}

func readAdvisory(t *testing.T, path string) *vulndb.Advisory {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	adv, err := vulndb.ParseAdvisory(data)
	if err != nil {
		t.Fatal(err)
	}
	return adv
}

func testAffectedMaven(t *testing.T, s Store, _ string) {
	fleet(t, s)
	res, err := Affected(context.Background(), s, readAdvisory(t, "testdata/GHSA-jfh8-c2jx-5x3c.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Log4Shell", refs(res), []string{"registry.example.com/api:1.4 log4j-core@2.14.1"})
	if len(res) == 1 && (res[0].Fixed != "2.15.0" || res[0].Severity != "CRITICAL") {
		t.Errorf("fixed %q severity %q, want 2.15.0 CRITICAL", res[0].Fixed, res[0].Severity)
	}
}

func testAffectedDebian(t *testing.T, s Store, _ string) {
	fleet(t, s)
	res, err := Affected(context.Background(), s, readAdvisory(t, "../../examples/osv/DSA-5532-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "DSA-5532-1", refs(res), []string{"registry.example.com/api:1.4 libssl3@3.0.11-1~deb12u1", "registry.example.com/api:1.4 openssl@3.0.11-1~deb12u1"})
	for _, r := range res {
		if r.Fixed != "3.0.11-1~deb12u2" {
			t.Errorf("%s fixed %q", r.Package.Name, r.Fixed)
		}
	}
}

func testDeployments(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(2 * time.Hour)
	for _, d := range []Deployment{
		{Digest: digestA, Cluster: "prod-eu", Namespace: "payments", Workload: "Deployment/api", LastSeen: t1},
		{Digest: digestA, Cluster: "prod-eu", Namespace: "payments", Workload: "Deployment/api", LastSeen: t2},
		// an older sighting written late (another webhook replica) moves nothing back
		{Digest: digestA, Cluster: "prod-eu", Namespace: "payments", Workload: "Deployment/api", LastSeen: t1.Add(time.Hour)},
		{Digest: digestA, Cluster: "prod-us", Namespace: "payments", Workload: "Deployment/api", LastSeen: t1},
		{Digest: digestA, Cluster: "prod-us", Namespace: "payments", Workload: "Deployment/api", LastSeen: t1.Add(-time.Hour)}, // seen earlier
		{Digest: "sha256:dddd", Namespace: "batch", Workload: "CronJob/report", LastSeen: t1},                                  // not in the inventory yet
	} {
		if err := s.RecordDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordDeployment(ctx, Deployment{Digest: digestA}); err == nil {
		t.Error("a deployment without namespace and workload was accepted")
	}
	res, err := Search(ctx, s, Query{PURL: "pkg:maven/org.apache.logging.log4j/log4j-core", Range: mustRange(t, "<2.17.1")})
	if err != nil || len(res) != 1 {
		t.Fatal(res, err)
	}
	deps := res[0].Image.Deployments
	if len(deps) != 2 || deps[0].Cluster != "prod-eu" || !deps[0].FirstSeen.Equal(t1) || !deps[0].LastSeen.Equal(t2) || deps[1].Cluster != "prod-us" ||
		!deps[1].FirstSeen.Equal(t1.Add(-time.Hour)) || !deps[1].LastSeen.Equal(t1) {
		t.Errorf("deployments = %+v", deps)
	}
	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs {
		if want := map[string]int{digestA: 2}[im.Digest]; len(im.Deployments) != want {
			t.Errorf("%s: %d deployments, want %d", im.Reference, len(im.Deployments), want)
		}
	}
}

// testPlacesAndPrune: containers (the newest sighting naming any wins), the index a
// platform image was recorded through, the places whose image is not held, and pruning
// by last-seen time.
func testPlacesAndPrune(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	const index = "sha256:1dec000000000000000000000000000000000000000000000000000000000009"
	for _, batch := range [][]Deployment{
		{{Digest: digestA, Cluster: "prod", Namespace: "pay", Workload: "Deployment/api", Containers: []string{"api", "migrate", "api"}, LastSeen: t1}},
		// a newer sighting renames the container; an older one written late changes nothing
		{{Digest: digestA, Cluster: "prod", Namespace: "pay", Workload: "Deployment/api", Containers: []string{"server"}, LastSeen: t1.Add(2 * time.Hour)}},
		{{Digest: digestA, Cluster: "prod", Namespace: "pay", Workload: "Deployment/api", Containers: []string{"old"}, LastSeen: t1.Add(time.Hour)}},
		// a sighting naming no container keeps the names
		{{Digest: digestA, Cluster: "prod", Namespace: "pay", Workload: "Deployment/api", LastSeen: t1.Add(3 * time.Hour)}},
		// an index and its platform image B (held), and an index with a platform image not held
		{{Digest: index, Namespace: "web", Workload: "Deployment/front", LastSeen: t1},
			{Digest: digestB, Namespace: "web", Workload: "Deployment/front", Index: index, LastSeen: t1}},
		{{Digest: "sha256:eeee", Namespace: "web", Workload: "Deployment/edge", LastSeen: t1.Add(-48 * time.Hour)},
			{Digest: "sha256:ffff", Namespace: "web", Workload: "Deployment/edge", Index: "sha256:eeee", LastSeen: t1.Add(-48 * time.Hour)}},
	} {
		if err := s.RecordDeployments(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordDeployment(ctx, Deployment{Digest: digestA, Namespace: "pay", Workload: "Deployment/x", Containers: []string{"a,b"}}); err == nil {
		t.Error("a container name with a comma was accepted")
	}
	deps, err := s.Deployments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, fmt.Sprintf("%s/%s/%s %s %v %s %s", d.Cluster, d.Namespace, d.Workload, d.Digest[:11], d.Containers, d.Index, d.LastSeen.Format(time.RFC3339)))
	}
	want := []string{
		"/web/Deployment/edge sha256:eeee [] " + " 2026-02-27T10:00:00Z",
		"/web/Deployment/edge sha256:ffff [] sha256:eeee 2026-02-27T10:00:00Z",
		"/web/Deployment/front sha256:1dec [] " + " 2026-03-01T10:00:00Z",
		"/web/Deployment/front sha256:bbbb [] " + index + " 2026-03-01T10:00:00Z",
		"prod/pay/Deployment/api sha256:aaaa [server] " + " 2026-03-01T13:00:00Z",
	}
	equal(t, "places", got, want)

	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imgs2, deps2, err := s.ImagesAndPlaces(ctx)
	if err != nil || !reflect.DeepEqual(imgs2, imgs) || !reflect.DeepEqual(deps2, deps) {
		t.Errorf("ImagesAndPlaces differs from Images and Deployments (%v)", err)
	}
	var missing []string
	for _, d := range Unrecorded(imgs, deps) {
		missing = append(missing, d.Workload+" "+d.Digest)
	}
	equal(t, "unrecorded", missing, []string{"Deployment/edge sha256:eeee"})

	n, err := s.PruneDeployments(ctx, t1.Add(-time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneDeployments = %d, %v; want the edge index and its platform image", n, err)
	}
	if deps, err = s.Deployments(ctx); err != nil || len(deps) != 3 {
		t.Fatalf("after pruning: %d places, %v; want 3", len(deps), err)
	}
	if n, err = s.PruneDeployments(ctx, t1.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruning again = %d, %v; want 0", n, err)
	}
}

// testAddedThroughIndex: an image added through an image index runs wherever the index's
// digest was recorded (once per place, when its own digest was recorded there too), and
// such places are not blind spots.
func testAddedThroughIndex(t *testing.T, s Store, _ string) {
	ctx := context.Background()
	const index = "sha256:1dec000000000000000000000000000000000000000000000000000000000009"
	if _, err := s.Add(ctx, &Image{Digest: digestA, Index: index, Reference: "api:1", Packages: []Package{maven("log4j-core", "2.14.1", 0)}}); err != nil {
		t.Fatal(err)
	}
	// added again without the index (an SBOM of it, say): the index stays
	if _, err := s.Add(ctx, &Image{Digest: digestA, Reference: "sbom:api.cdx.json"}); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := s.RecordDeployments(ctx, []Deployment{
		{Digest: index, Cluster: "prod", Namespace: "pay", Workload: "Deployment/api", LastSeen: t1},                   // a script knows the index only
		{Digest: index, Cluster: "prod", Namespace: "web", Workload: "Deployment/front", LastSeen: t1},                 // the webhook: the index and ...
		{Digest: digestA, Cluster: "prod", Namespace: "web", Workload: "Deployment/front", Index: index, LastSeen: t1}, // ... its platform image
	}); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.Images(ctx)
	if err != nil || len(imgs) != 1 {
		t.Fatal(imgs, err)
	}
	var where []string
	for _, d := range imgs[0].Deployments {
		where = append(where, d.Namespace+"/"+d.Workload)
	}
	equal(t, "places", where, []string{"pay/Deployment/api", "web/Deployment/front"})
	if imgs[0].Index != index || imgs[0].Reference != "api:1" {
		t.Errorf("image %+v, want index %s and reference api:1", imgs[0], index)
	}
	res, err := Search(ctx, s, Query{Name: "log4j-core"})
	if err != nil || len(res) != 1 || len(res[0].Image.Deployments) != 2 {
		t.Fatalf("search: %+v, %v", res, err)
	}
	deps, err := s.Deployments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if missing := Unrecorded(imgs, deps); len(missing) != 0 {
		t.Errorf("unrecorded: %+v, want none (the index was added through its platform image)", missing)
	}
}

func testRemove(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	n, err := s.Remove(ctx, "registry.example.com/api:1.4")
	if err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	if n, err := s.Remove(ctx, digestB); err != nil || n != 1 {
		t.Fatalf("Remove by digest = %d, %v", n, err)
	}
	if n, err := s.Remove(ctx, "nothing:here"); err != nil || n != 0 {
		t.Fatalf("Remove of nothing = %d, %v", n, err)
	}
	res, err := Search(ctx, s, Query{Name: "bash"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "after remove", refs(res), []string{"registry.example.com/web:7 bash@5.2.15-2+b2"})
	// a removed image can be added again, with its packages
	fleetAgain := &Image{Digest: digestA, Reference: "registry.example.com/api:1.4", Packages: []Package{maven("log4j-core", "2.14.1", 0)}}
	if added, err := s.Add(ctx, fleetAgain); err != nil || !added {
		t.Fatalf("re-add after remove = %v, %v", added, err)
	}
}

func testSBOMWithoutDigest(t *testing.T, s Store, _ string) {
	ctx := context.Background()
	img := &Image{Reference: "sbom:api.cdx.json", Packages: []Package{maven("log4j-core", "2.14.1", -1)}}
	for i, want := range []bool{true, false} {
		added, err := s.Add(ctx, img)
		if err != nil || added != want {
			t.Fatalf("Add #%d = %v, %v; want %v", i+1, added, err, want)
		}
	}
	res, err := Search(ctx, s, Query{Name: "log4j-core"})
	if err != nil || len(res) != 1 || res[0].Image.Digest != "" || res[0].Layer != "" || res[0].Package.LayerIndex != -1 {
		t.Fatalf("%+v %v", res, err)
	}
	if n, err := s.Remove(ctx, "sbom:api.cdx.json"); err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
}

// testDeploymentsBatch records many places at once, one of them twice in the batch, and
// refuses a batch with an incomplete place whole.
func testDeploymentsBatch(t *testing.T, s Store, _ string) {
	fleet(t, s)
	ctx := context.Background()
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var batch []Deployment
	for i := range 1200 { // more than one statement's worth of rows
		batch = append(batch, Deployment{Digest: digestA, Cluster: "prod", Namespace: "ns", Workload: fmt.Sprintf("Deployment/w%04d", i), LastSeen: t1})
	}
	batch = append(batch, Deployment{Digest: digestA, Cluster: "prod", Namespace: "ns", Workload: "Deployment/w0000", LastSeen: t1.Add(time.Hour)},
		Deployment{Digest: digestA, Cluster: "prod", Namespace: "ns", Workload: "Deployment/w0000", LastSeen: t1.Add(-time.Hour)})
	if err := s.RecordDeployments(ctx, batch); err != nil {
		t.Fatal(err)
	}
	bad := []Deployment{{Digest: digestA, Namespace: "ns", Workload: "Deployment/late", LastSeen: t1}, {Digest: digestA, Namespace: "ns"}}
	if err := s.RecordDeployments(ctx, bad); err == nil {
		t.Error("a batch with a place without a workload was accepted")
	}
	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs {
		if im.Digest != digestA {
			continue
		}
		if len(im.Deployments) != 1200 {
			t.Fatalf("%d places, want 1200 (the refused batch adds none)", len(im.Deployments))
		}
		d := im.Deployments[0]
		if d.Workload != "Deployment/w0000" || !d.FirstSeen.Equal(t1.Add(-time.Hour)) || !d.LastSeen.Equal(t1.Add(time.Hour)) {
			t.Errorf("the place seen three times in one batch: %+v", d)
		}
	}
}

func testSchemaTooNew(t *testing.T, s Store, loc string) {
	ss := s.(*sqlStore)
	if _, err := ss.db.Exec(ss.d.bind(`INSERT INTO charter_schema (version, applied) VALUES (?, ?)`), SchemaVersion+1, nowUTC()); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), loc)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

// testMigrateFromV1 opens a database of schema version 1 with an image in it: the image
// is kept, and on PostgreSQL the links no longer carry a foreign key (migration 2).
func testMigrateFromV1(t *testing.T, s Store, _ string) {
	ctx := context.Background()
	loc := filepath.Join(t.TempDir(), "v1.db")
	if s.(*sqlStore).d.dollar {
		loc = postgresLocation(t)
	}
	SchemaVersion = 1
	old, err := Open(ctx, loc)
	SchemaVersion = len(migrations)
	if err != nil {
		t.Fatal(err)
	}
	// what a charter of schema version 1 wrote: its columns only (ids clear of the
	// identity sequences the adds below draw from)
	v1 := old.(*sqlStore)
	pkg := maven("log4j-core", "2.14.1", 0)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO images (id, ident, digest, reference, added, distro, packages) VALUES (1000, ?, ?, 'api:1', ?, '', 1)`,
			[]any{digestA, digestA, time.Now().UTC()}},
		{`INSERT INTO components (id, ident, ecosystem, name, version, purl, src_name, src_version, name_key, src_key)
			VALUES (1000, ?, ?, ?, ?, ?, '', '', ?, '')`,
			[]any{componentIdent(&pkg), pkg.Ecosystem, pkg.Name, pkg.Version, pkg.PURL, NameKey(pkg.Name)}},
		{`INSERT INTO image_packages (image_id, component_id, layer_index, path) VALUES (1000, 1000, 0, '')`, nil},
		{`INSERT INTO deployments (digest, cluster, namespace, workload, first_seen, last_seen) VALUES (?, 'prod', 'pay', 'Deployment/api', ?, ?)`,
			[]any{digestA, time.Now().UTC(), time.Now().UTC()}},
	} {
		if _, err := v1.db.ExecContext(ctx, v1.d.bind(q.sql), q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	cur, err := Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cur.Close() }()
	ss := cur.(*sqlStore)
	var version int
	if err := ss.db.QueryRow(`SELECT MAX(version) FROM charter_schema`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", version, err, len(migrations))
	}
	res, err := Search(ctx, cur, Query{Name: "log4j-core"})
	if err != nil || len(res) != 1 || res[0].Image.Digest != digestA || len(res[0].Image.Deployments) != 1 ||
		res[0].Image.Deployments[0].Containers != nil || res[0].Image.Index != "" {
		t.Fatalf("after the migration: %+v, %v", res, err)
	}
	if !ss.d.dollar {
		return
	}
	var fks int
	if err := ss.db.QueryRow(`SELECT COUNT(*) FROM information_schema.table_constraints
		WHERE constraint_type = 'FOREIGN KEY' AND table_schema = current_schema()`).Scan(&fks); err != nil || fks != 0 {
		t.Fatalf("%d foreign keys left (%v), want none", fks, err)
	}
	if _, err := cur.Add(ctx, &Image{Digest: digestB, Reference: "api:2", Packages: []Package{maven("log4j-core", "2.17.1", 0)}}); err != nil {
		t.Fatal(err)
	}
	if n, err := cur.Remove(ctx, "api:2"); err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	var links int
	if err := ss.db.QueryRow(`SELECT COUNT(*) FROM image_packages`).Scan(&links); err != nil || links != 1 {
		t.Fatalf("%d links left after removing one of two images (%v), want 1", links, err)
	}
}

func testConcurrentAdds(t *testing.T, s Store, _ string) {
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]bool, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img := &Image{Digest: fmt.Sprintf("sha256:%064d", i%2), Reference: fmt.Sprintf("app:%d", i),
				Packages: []Package{maven("log4j-core", "2.14.1", 0), maven("log4j-api", "2.14.1", 0)}}
			results[i], errs[i] = s.Add(ctx, img)
		}()
	}
	wg.Wait()
	n := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if results[i] {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d adds reported new, want 2 (two digests)", n)
	}
	res, err := Search(ctx, s, Query{Name: "log4j-core"})
	if err != nil || len(res) != 2 {
		t.Errorf("%d results, %v; want 2", len(res), err)
	}
}

func testReopen(t *testing.T, s Store, loc string) {
	fleet(t, s)
	s2, err := Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s2.Close() }()
	imgs, err := s2.Images(context.Background())
	if err != nil || len(imgs) != 3 {
		t.Fatalf("%d images after reopen, %v", len(imgs), err)
	}
}

func testAddAll(t *testing.T, s Store, _ string) {
	ctx := context.Background()
	imgs := []*Image{
		{Digest: digestA, Reference: "api:1", Packages: []Package{maven("log4j-core", "2.14.1", 0), maven("log4j-api", "2.14.1", 0)}},
		{Digest: digestB, Reference: "worker:1", Packages: []Package{maven("log4j-core", "2.14.1", 0)}},
		{Digest: digestA, Reference: "api:latest", Packages: []Package{maven("log4j-core", "9.9.9", 0)}}, // the same digest again
	}
	added, err := s.AddAll(ctx, imgs)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "added", []string{fmt.Sprint(added)}, []string{"[true true false]"})
	res, err := Search(ctx, s, Query{Name: "log4j-core"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "batch", refs(res), []string{"api:latest log4j-core@2.14.1", "worker:1 log4j-core@2.14.1"})
	if added, err := s.AddAll(ctx, []*Image{{Reference: "ok"}, {}}); err == nil || added != nil {
		t.Errorf("a batch with an unnamed image = %v, %v; want an error and nothing added", added, err)
	}
	if imgs, err := s.Images(ctx); err != nil || len(imgs) != 2 {
		t.Errorf("%d images after a refused batch, %v", len(imgs), err)
	}
}

func TestPostgresErrorsNameNoPassword(t *testing.T) {
	loc := "postgres://alice:s3cretpw@127.0.0.1:1/inv?connect_timeout=1"
	_, err := Open(context.Background(), loc)
	if err == nil {
		t.Fatal("opened a server that does not exist")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cretpw") || strings.Contains(msg, "\n") || !strings.Contains(msg, "postgres://alice:xxxxx@127.0.0.1:1/inv") {
		t.Errorf("error = %q", msg)
	}
	if got := scrub(errors.New("password s3cretpw\n\tfailed"), loc).Error(); got != "password **** failed" {
		t.Errorf("scrub = %q", got)
	}
}

// An add runs with SQLite's foreign keys off; the connection gets them back.
func TestSQLiteForeignKeysBackAfterAdd(t *testing.T) {
	s, _ := openSQLiteTest(t)
	if _, err := s.AddAll(context.Background(), []*Image{synthImage(1), synthImage(2)}); err != nil {
		t.Fatal(err)
	}
	var on int
	if err := s.(*sqlStore).db.QueryRowContext(context.Background(), `PRAGMA foreign_keys`).Scan(&on); err != nil {
		t.Fatal(err)
	}
	if on != 1 {
		t.Fatalf("foreign_keys = %d after an add, want 1", on)
	}
}
