package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

func npmRecord(id, pkg, fixed string) string {
	return fmt.Sprintf(`{"id":%q,"modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":%q},
		"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":%q}]}]}]}`, id, pkg, fixed)
}

func matchIDs(t *testing.T, dir string, pkgs ...report.Package) string {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	r, err := db.Match(context.Background(), pkgs, Distro{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range r.Matches {
		ids = append(ids, m.Package.Name+":"+m.ID+"@"+m.Fixed)
	}
	return strings.Join(ids, " ")
}

func TestIncrementalFolder(t *testing.T) {
	src := writeRecords(t, map[string]string{"A-1": npmRecord("A-1", "a", "1.0.0"), "B-1": npmRecord("B-1", "b", "1.0.0")})
	csv := "2024-01-02T00:00:00Z,A-1\n2024-01-01T00:00:00Z,B-1\n"
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("modified_id.csv", csv)
	dir := t.TempDir()
	other := Source{Name: "other", Location: writeRecords(t, map[string]string{"C-1": npmRecord("C-1", "c", "1.0.0")})}
	s := Source{Name: "folder", Location: src}
	if _, err := Update(context.Background(), dir, UpdateOptions{}, s, other); err != nil {
		t.Fatal(err)
	}
	pkgs := []report.Package{lang("npm", "", "a", "0.5.0"), lang("npm", "", "b", "0.5.0"), lang("npm", "", "c", "0.5.0")}
	if got := matchIDs(t, dir, pkgs...); got != "a:A-1@1.0.0 b:B-1@1.0.0 c:C-1@1.0.0" {
		t.Fatalf("after full import: %s", got)
	}
	// A-1 gets a new fix, B-1 is withdrawn; an unlisted change to C… is not fetched
	write("A-1.json", npmRecord("A-1", "a", "0.5.1"))
	write("B-1.json", `{"id":"B-1","withdrawn":"2024-02-01T00:00:00Z","affected":[]}`)
	write("modified_id.csv", "2024-02-01T00:00:00Z,B-1\n2024-01-03T00:00:00Z,A-1\n"+csv)
	res, err := Update(context.Background(), dir, UpdateOptions{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Sources[0].Incremental || res.Sources[0].Read != 2 || res.Sources[0].Withdrawn != 1 {
		t.Errorf("incremental stats %+v", res.Sources[0])
	}
	if got := matchIDs(t, dir, pkgs...); got != "a:A-1@0.5.1 c:C-1@1.0.0" {
		t.Fatalf("after incremental import: %s", got)
	}
	if n := len(res.Status.Sources); n != 2 || res.Status.Records != 2 {
		t.Errorf("status %+v", res.Status)
	}
}

func zipOf(t testing.TB, entries map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "all.zip")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestZipSourceHostileEntries(t *testing.T) {
	z := writeFile(t, zipOf(t, map[string][]byte{
		"A-1.json":         []byte(npmRecord("A-1", "a", "1.0.0")),
		"../escape.json":   []byte(npmRecord("E-1", "e", "1.0.0")),
		"/abs.json":        []byte(npmRecord("E-2", "e", "1.0.0")),
		"dir\\win.json":    []byte(npmRecord("E-3", "e", "1.0.0")),
		"huge.json":        bytes.Repeat([]byte(" "), 9<<20/10), // under the limit but not a record
		"README.txt":       []byte("ignored"),
		"nested/B-1.json":  []byte(npmRecord("B-1", "b", "1.0.0")),
		"nested/./x.json":  []byte(npmRecord("E-4", "e", "1.0.0")),
		"bad-id.json":      []byte(npmRecord("../../etc", "e", "1.0.0")),
		"bad-range.json":   []byte(npmRecord("R-1", "e", "not.a.version")),
		"huge-list.json":   []byte(`{"id":"L-1","affected":[{"package":{"ecosystem":"npm","name":"e"},"versions":[` + strings.Repeat(`"1.0.0",`, 200) + `"1"]}]}`),
		"not-object.json":  []byte(`[1,2,3]`),
		"empty-affec.json": []byte(`{"id":"N-1","affected":[]}`),
	}))
	lim := DefaultLimits()
	lim.MaxVersions = 100
	dir := t.TempDir()
	res, err := Update(context.Background(), dir, UpdateOptions{Limits: &lim}, Source{Location: z})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Sources[0]
	if st.Imported != 2 || st.Skipped[SkipUnsafePath] != 4 || st.Skipped[SkipInvalidID] != 1 || st.Skipped[SkipTooMany] != 1 {
		t.Errorf("stats %+v", st)
	}
	if got := matchIDs(t, dir, lang("npm", "", "a", "0.1.0"), lang("npm", "", "b", "0.1.0"), lang("npm", "", "e", "0.1.0")); got != "a:A-1@1.0.0 b:B-1@1.0.0" {
		t.Errorf("matches %s", got)
	}
}

// seedDB builds a database from the snapshot and returns its dir and file contents.
func seedDB(t testing.TB) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Update(context.Background(), dir, UpdateOptions{}, snapshot()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, b
}

// assertIntact checks that the database is byte-for-byte the seeded one, still opens,
// still matches, and that no temporary file was left behind.
func assertIntact(t *testing.T, dir string, seeded []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, dbFile))
	if err != nil || !bytes.Equal(b, seeded) {
		t.Fatalf("database changed (err %v)", err)
	}
	if got := matchIDs(t, dir, lang("npm", "pkg:npm/lodash@4.17.20", "lodash", "4.17.20")); got != "lodash:CVE-2021-23337@4.17.21" {
		t.Fatalf("database no longer matches: %q", got)
	}
}

func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	for _, pat := range []string{tmpPrefix + "*", dlPrefix + "*"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) != 0 {
			t.Errorf("left behind: %v", m)
		}
	}
}

func TestZipBombKeepsDatabase(t *testing.T) {
	dir, seeded := seedDB(t)
	bomb := writeFile(t, zipOf(t, map[string][]byte{
		"A-1.json":  []byte(npmRecord("A-1", "a", "1.0.0")),
		"BOMB.json": bytes.Repeat([]byte("0"), 2<<20), // deflates ~1000:1, past 1 MiB
	}))
	_, err := Update(context.Background(), dir, UpdateOptions{}, Source{Name: "snapshot", Location: bomb})
	if !errors.Is(err, ErrZipBomb) {
		t.Fatalf("Update of a zip bomb: %v", err)
	}
	assertIntact(t, dir, seeded)
	noLeftovers(t, dir)
}

func TestBadSourcesKeepDatabase(t *testing.T) {
	dir, seeded := seedDB(t)
	garbage := writeFile(t, []byte("PK\x03\x04 not really a zip"))
	empty := t.TempDir()
	for _, s := range []Source{
		{Name: "snapshot", Location: garbage},
		{Name: "snapshot", Location: empty}, // no record: an empty mirror must not empty the DB
		{Name: "snapshot", Location: filepath.Join(empty, "missing")},
		{Name: "x", Location: "http://203.0.113.7/osv/all.zip"}, // plain http off loopback: refused before dialing
		{Name: "x", Location: "ftp://example.invalid/all.zip"},
	} {
		if _, err := Update(context.Background(), dir, UpdateOptions{}, s); err == nil {
			t.Errorf("Update from %s succeeded", s.Location)
		}
		assertIntact(t, dir, seeded)
	}
	noLeftovers(t, dir)
}

// osvServer serves a Go-ecosystem-like prefix: all.zip, modified_id.csv, <ID>.json.
type osvServer struct {
	records  map[string]string
	csv      string
	truncate atomic.Bool
	gets     atomic.Int32
}

func (o *osvServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.gets.Add(1)
	name := strings.TrimPrefix(r.URL.Path, "/osv/Go/")
	switch {
	case name == "all.zip":
		entries := map[string][]byte{}
		for id, doc := range o.records {
			entries[id+".json"] = []byte(doc)
		}
		body := zipOf(&testing.T{}, entries)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if o.truncate.Load() {
			body = body[:len(body)/2]
		}
		_, _ = w.Write(body)
	case name == "modified_id.csv":
		_, _ = w.Write([]byte(o.csv))
	case strings.HasSuffix(name, ".json") && o.records[strings.TrimSuffix(name, ".json")] != "":
		_, _ = w.Write([]byte(o.records[strings.TrimSuffix(name, ".json")]))
	default:
		http.NotFound(w, r)
	}
}

func TestURLSource(t *testing.T) {
	o := &osvServer{records: map[string]string{
		"GO-1": npmRecord("GO-1", "a", "1.0.0"), "GO-2": npmRecord("GO-2", "b", "1.0.0"),
	}, csv: "2024-01-02T00:00:00Z,GO-1\n2024-01-01T00:00:00Z,GO-2\n"}
	srv := httptest.NewServer(o)
	defer srv.Close()
	s := Source{Name: "osv:Go", Location: srv.URL + "/osv/Go"}
	dir := t.TempDir()
	if _, err := Update(context.Background(), dir, UpdateOptions{}, s); err != nil {
		t.Fatal(err)
	}
	seeded, _ := os.ReadFile(filepath.Join(dir, dbFile))
	// a truncated download fails the update and keeps the database
	o.truncate.Store(true)
	if _, err := Update(context.Background(), dir, UpdateOptions{Full: true}, s); err == nil {
		t.Fatalf("truncated download: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, dbFile)); !bytes.Equal(b, seeded) {
		t.Fatal("database changed after a failed download")
	}
	noLeftovers(t, dir)
	o.truncate.Store(false)
	// one changed record: fetched alone, through modified_id.csv
	o.records["GO-2"] = npmRecord("GO-2", "b", "0.9.0")
	o.csv = "2024-03-01T00:00:00Z,GO-2\n" + o.csv
	o.gets.Store(0)
	res, err := Update(context.Background(), dir, UpdateOptions{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Sources[0].Incremental || o.gets.Load() != 2 || res.Status.Sources[0].Cursor != "2024-03-01T00:00:00Z" {
		t.Errorf("incremental: %+v, %d requests", res.Sources[0], o.gets.Load())
	}
	if got := matchIDs(t, dir, lang("npm", "", "a", "0.1"), lang("npm", "", "b", "0.1")); got != "a:GO-1@1.0.0 b:GO-2@0.9.0" {
		t.Errorf("matches %s", got)
	}
}

func TestConcurrentUpdatesSerialise(t *testing.T) {
	dir := t.TempDir()
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			_, err := Update(context.Background(), dir, UpdateOptions{}, snapshot())
			errs <- err
		}()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := matchIDs(t, dir, lang("npm", "", "lodash", "4.17.20")); got != "lodash:CVE-2021-23337@4.17.21" {
		t.Errorf("matches %s", got)
	}
	noLeftovers(t, dir)
}

func TestLockHonoursContext(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), filepath.Join(dir, lockFile))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Update(ctx, dir, UpdateOptions{}, snapshot()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update while locked: %v", err)
	}
}

// TestAdvisoryByIDAndAlias: an advisory is found by its ID or any alias, across sources
// and merged; an incremental update that drops an alias or withdraws a record takes its
// names out of the ID index (no stale name finds a record that no longer goes by it).
func TestAdvisoryByIDAndAlias(t *testing.T) {
	withAliases := func(id, pkg, fixed string, aliases ...string) string {
		rec := npmRecord(id, pkg, fixed)
		quoted := make([]string, len(aliases))
		for i, a := range aliases {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		return strings.Replace(rec, `"modified"`, `"aliases":[`+strings.Join(quoted, ",")+`],"modified"`, 1)
	}
	src := writeRecords(t, map[string]string{
		"GHSA-aaaa": withAliases("GHSA-aaaa", "a", "1.0.0", "CVE-2024-0001", "CVE-2024-0001"),
		"GHSA-bbbb": withAliases("GHSA-bbbb", "b", "1.0.0", "CVE-2024-0002"),
	})
	other := Source{Name: "other", Location: writeRecords(t, map[string]string{
		"OTHER-1": withAliases("OTHER-1", "a2", "2.0.0", "CVE-2024-0001"),
	})}
	s := Source{Name: "folder", Location: src}
	dir := t.TempDir()
	if _, err := Update(context.Background(), dir, UpdateOptions{}, s, other); err != nil {
		t.Fatal(err)
	}
	lookup := func(id string) string {
		t.Helper()
		db, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = db.Close() }()
		a, err := db.Advisory(id)
		if errors.Is(err, ErrNoAdvisory) {
			return "none"
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(a.Records, " ")
	}
	for id, want := range map[string]string{
		"GHSA-aaaa":     "folder/GHSA-aaaa",
		"CVE-2024-0001": "folder/GHSA-aaaa other/OTHER-1",
		"CVE-2024-0002": "folder/GHSA-bbbb",
		"OTHER-1":       "other/OTHER-1",
		"CVE-2024-0003": "none",
		"CVE-2024":      "none", // a prefix of a name is not the name
		"GHSA-aaa":      "none",
	} {
		if got := lookup(id); got != want {
			t.Errorf("Advisory(%s) = %s, want %s", id, got, want)
		}
	}
	// GHSA-aaaa loses its alias, GHSA-bbbb is withdrawn
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("GHSA-aaaa.json", withAliases("GHSA-aaaa", "a", "1.0.1", "CVE-2024-0009"))
	write("GHSA-bbbb.json", `{"id":"GHSA-bbbb","withdrawn":"2024-02-01T00:00:00Z","affected":[]}`)
	write("modified_id.csv", "2024-02-01T00:00:00Z,GHSA-bbbb\n2024-02-01T00:00:00Z,GHSA-aaaa\n")
	if _, err := Update(context.Background(), dir, UpdateOptions{}, s); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"CVE-2024-0001": "other/OTHER-1",
		"CVE-2024-0009": "folder/GHSA-aaaa",
		"GHSA-aaaa":     "folder/GHSA-aaaa",
		"CVE-2024-0002": "none",
		"GHSA-bbbb":     "none",
	} {
		if got := lookup(id); got != want {
			t.Errorf("after the incremental update, Advisory(%s) = %s, want %s", id, got, want)
		}
	}
}
