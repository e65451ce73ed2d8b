package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func decodeStatus(t *testing.T, s string) dbStatus {
	t.Helper()
	var st dbStatus
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, s)
	}
	return st
}

// The bundled snapshot imports offline; status reports it; a second import of the same
// source replaces its records instead of adding them; age turns into a stale state.
func TestDBUpdateAndStatus(t *testing.T) {
	cache := t.TempDir()
	code, out, errOut := runAt(t, cache, testNow, nil, false, "db", "status")
	if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "charter db update") {
		t.Errorf("status without a database: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	abs, err := filepath.Abs(snapshotDir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		code, out, errOut = runAt(t, cache, testNow, nil, false, "db", "update", "--source", snapshotDir, "--offline")
		if code != ExitPass || errOut != "" || !strings.Contains(out, abs+": imported, 7 record(s) read, 7 stored, 0 withdrawn") ||
			!strings.Contains(out, "7 advisories") || !strings.Contains(out, "Debian:12 4, Go 2, PyPI 1") {
			t.Fatalf("update %d: exit %d, stderr %q\n%s", i+1, code, errOut, out)
		}
	}
	code, out, _ = runAt(t, cache, testNow.Add(3*time.Hour), nil, false, "db", "status", "-o", "json")
	st := decodeStatus(t, out)
	if code != ExitPass || st.Records != 7 || st.Stale || st.AgeSeconds != 3*3600 || len(st.Sources) != 1 ||
		st.Sources[0].Location != abs || st.Ecosystems["Debian:12"] != 4 || !st.Built.Equal(testNow) {
		t.Errorf("status -o json: exit %d %+v", code, st)
	}
	code, out, _ = runAt(t, cache, testNow.Add(3*time.Hour), nil, false, "db", "status")
	for _, want := range []string{"built       2026-11-25T12:00:00Z (3 hours ago)", "state       fresh", "advisories  7", "ecosystems  Debian:12 4, Go 2, PyPI 1", abs} {
		if code != ExitPass || !strings.Contains(out, want) {
			t.Errorf("status: no %q in\n%s", want, out)
		}
	}
	code, out, _ = runAt(t, cache, testNow.Add(25*time.Hour), nil, false, "db", "status")
	if code != ExitPass || !strings.Contains(out, "stale: older than 24 hours; run `charter db update`") {
		t.Errorf("stale status: exit %d\n%s", code, out)
	}
	code, out, _ = runAt(t, cache, testNow.Add(25*time.Hour), nil, false, "db", "status", "-o", "json")
	if st := decodeStatus(t, out); code != ExitPass || !st.Stale {
		t.Errorf("stale status -o json: %+v", st)
	}

	// An OSV zip, as the bucket serves them, is a second source beside the folder.
	zipPath := filepath.Join(t.TempDir(), "all.zip")
	writeZip(t, zipPath, "GO-2025-3595.json", "GO-2025-3503.json")
	code, out, errOut = runAt(t, cache, testNow, nil, false, "db", "update", "--source", zipPath, "-o", "json")
	var res struct {
		Status  dbStatus `json:"status"`
		Sources []struct {
			Source   string `json:"source"`
			Imported int    `json:"imported"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != ExitPass {
		t.Fatalf("update -o json: exit %d %s %v\n%s", code, errOut, err, out)
	}
	if len(res.Sources) != 1 || res.Sources[0].Imported != 2 || res.Status.Records != 9 || len(res.Status.Sources) != 2 {
		t.Errorf("zip source: %+v", res)
	}
}

// writeZip packs snapshot records into an OSV-style zip.
func writeZip(t *testing.T, path string, names ...string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(snapshotDir, n))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// --ecosystem downloads <mirror>/<ecosystem>/all.zip with a progress bar on a terminal;
// a plain update refreshes the ecosystems held; a failed download keeps the database.
func TestDBUpdateEcosystemFromMirror(t *testing.T) {
	zipDir := t.TempDir()
	writeZip(t, filepath.Join(zipDir, "Debian.zip"), "DSA-5532-1.json", "DEBIAN-CVE-2023-5363.json", "DEBIAN-CVE-2023-4911.json")
	var fail atomic.Bool
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		if fail.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/osv/Debian/all.zip":
			http.ServeFile(w, r, filepath.Join(zipDir, "Debian.zip"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	mirror := srv.URL + "/osv"
	cache := t.TempDir()

	code, out, errOut := runAt(t, cache, testNow, nil, true, "db", "update", "--ecosystem", "Debian", "--mirror", mirror)
	if code != ExitPass || !strings.Contains(out, "osv:Debian: imported, 3 record(s) read, 3 stored") {
		t.Fatalf("--ecosystem Debian: exit %d, stderr %q\n%s", code, errOut, out)
	}
	if !strings.Contains(errOut, "downloading Debian/all.zip [") || !strings.Contains(errOut, " MB") || !strings.HasSuffix(errOut, "\r\x1b[2K") {
		t.Errorf("no download bar on the terminal, or not cleared: %q", errOut)
	}
	if _, _, errOut = runAt(t, cache, testNow, nil, false, "db", "update", "--ecosystem", "Debian", "--mirror", mirror); errOut != "" {
		t.Errorf("progress drawn without a terminal: %q", errOut)
	}
	code, out, errOut = runAt(t, cache, testNow.Add(time.Hour), nil, false, "db", "update", "--mirror", mirror)
	if code != ExitPass || !strings.Contains(out, "osv:Debian: imported") || strings.Count(out, ": imported") != 1 {
		t.Errorf("a plain update does not refresh exactly the held ecosystem: exit %d %s\n%s", code, errOut, out)
	}

	fail.Store(true)
	code, out, errOut = runAt(t, cache, testNow.Add(2*time.Hour), nil, false, "db", "update", "--mirror", mirror)
	if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "503") || !strings.Contains(errOut, "unchanged") {
		t.Errorf("failed download: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, out, _ = runAt(t, cache, testNow.Add(2*time.Hour), nil, false, "db", "status", "-o", "json")
	if st := decodeStatus(t, out); st.Records != 3 || !st.Built.Equal(testNow.Add(time.Hour)) {
		t.Errorf("the failed update changed the database: %+v", st)
	}

	before := gets.Load()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "update", "--offline"}, "--offline"},
		{[]string{"db", "update", "--offline", "--ecosystem", "Debian", "--mirror", mirror}, "--offline"},
		{[]string{"db", "update", "--offline", "--source", mirror + "/Debian/all.zip"}, "--offline"},
		{[]string{"db", "update", "--ecosystem", "Debain"}, "--ecosystem Debain"},
		{[]string{"db", "update", "--source", filepath.Join(t.TempDir(), "missing")}, "missing"},
		{[]string{"db", "update", "-o", "yaml"}, "unknown format"},
		{[]string{"db", "status", "-o", "yaml"}, "unknown format"},
	} {
		code, out, errOut := runAt(t, cache, testNow, nil, false, tc.args...)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want one line with %q)", tc.args, code, out, errOut, tc.want)
		}
	}
	if gets.Load() != before {
		t.Errorf("refused updates reached the mirror %d time(s)", gets.Load()-before)
	}
	fail.Store(false)
	code, out, errOut = runAt(t, cache, testNow, nil, false, "db", "update", "--source", mirror+"/Debian/all.zip")
	if code != ExitPass || !strings.Contains(out, "3 stored") {
		t.Errorf("--source URL of a zip: exit %d %s\n%s", code, errOut, out)
	}
}
