package catalog

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rpmWant is what rpm itself installed into the fixtures (testdata/rpm/make.sh).
var rpmWant = map[string]string{"hello": "1.2-3", "tool": "2:2.0.1-1.el9"}

func checkRPM(t *testing.T, found []Found) {
	t.Helper()
	got := map[string]*Package{}
	for _, f := range found {
		if f.Warning != "" {
			t.Errorf("warning: %s", f.Warning)
		}
		if f.Package != nil {
			got[f.Package.Name] = f.Package
		}
	}
	if len(got) != len(rpmWant) {
		t.Fatalf("packages = %v, want %v", got, rpmWant)
	}
	for name, v := range rpmWant {
		p := got[name]
		if p == nil || p.Version != v || p.Arch != "x86_64" || p.Source == nil || p.Source.Name != name {
			t.Errorf("%s = %+v (source %+v), want version %s", name, p, p.Source, v)
			continue
		}
		files := append([]string(nil), p.Files...)
		sort.Strings(files)
		if strings.Join(files, ",") != "/etc/"+name+".conf,/usr/bin/"+name {
			t.Errorf("%s files = %v", name, files)
		}
		if d := p.Digests["/usr/bin/"+name]; d != "sha256:"+sha256hex(name+" binary\n") {
			t.Errorf("%s digest = %q", name, d)
		}
		if d, ok := p.Digests["/etc/"+name+".conf"]; ok {
			t.Errorf("%s: %%config file has a digest to check: %s", name, d)
		}
	}
	if l := got["tool"].Licenses; len(l) != 1 || l[0] != "Apache-2.0" {
		t.Errorf("tool licences = %v", l)
	}
}

func TestRPMSQLite(t *testing.T) {
	b := readHost(t, "testdata/rpm/rpmdb.sqlite")
	checkRPM(t, rpmCataloger{}.Parse(&fileOf("/var/lib/rpm/rpmdb.sqlite", b).File, b))
}

func TestRPMBerkeleyDB(t *testing.T) {
	b := readHost(t, "testdata/rpm/Packages")
	checkRPM(t, rpmCataloger{}.Parse(&fileOf("/var/lib/rpm/Packages", b).File, b))
}

// TestRPMNDB writes the fixture's headers into rpm's NDB layout (Debian's rpm is
// built without NDB, so no real one can be made here): a 32-byte header, one page of
// 16-byte slots, and 16-byte-aligned blobs behind a blob header.
func TestRPMNDB(t *testing.T) {
	sq := readHost(t, "testdata/rpm/rpmdb.sqlite")
	blobs, err := sqliteRPMBlobs(sq)
	if err != nil {
		t.Fatal(err)
	}
	b := ndbOf(blobs)
	checkRPM(t, rpmCataloger{}.Parse(&fileOf("/usr/lib/sysimage/rpm/Packages.db", b).File, b))
}

func ndbOf(blobs [][]byte) []byte {
	le := binary.LittleEndian
	db := make([]byte, 4096)
	le.PutUint32(db, 'R'|'p'<<8|'m'<<16|'P'<<24)
	le.PutUint32(db[12:], 1)
	slot := 32
	for i, bl := range blobs {
		off := len(db)
		le.PutUint32(db[slot:], 'S'|'l'<<8|'o'<<16|'t'<<24)
		le.PutUint32(db[slot+4:], uint32(i+1))
		le.PutUint32(db[slot+8:], uint32(off/16))
		slot += 16
		h := make([]byte, 16)
		le.PutUint32(h, 'B'|'l'<<8|'b'<<16|'S'<<24)
		le.PutUint32(h[4:], uint32(i+1))
		le.PutUint32(h[12:], uint32(len(bl)))
		db = append(db, h...)
		db = append(db, bl...)
		for len(db)%16 != 0 {
			db = append(db, 0)
		}
	}
	for ; slot < 4096; slot += 16 {
		le.PutUint32(db[slot:], 'S'|'l'<<8|'o'<<16|'t'<<24)
	}
	return db
}

// TestRPMCentOSDatabases reads real CentOS 5–8 Berkeley DB databases when a module
// cache on this machine has them (go-rpmdb's test data); the counts are rpm's own,
// less the gpg-pubkey entries.
func TestRPMCentOSDatabases(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skip("no go command")
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com/knqyf263/go-rpmdb@v0.0.0-20210911072402-73bd0ce46c49/pkg/testdata")
	// All ten agree; three (one per CentOS generation) keep the race-detector run short.
	want := map[string]int{"centos5-plain": 110, "centos6-plain": 129, "centos7-plain": 144}
	if os.Getenv("CHARTER_RPM_ALL") != "" {
		for k, v := range map[string]int{"centos6-devtools": 262, "centos6-many": 325, "centos7-devtools": 263,
			"centos7-httpd24": 222, "centos7-many": 395, "centos7-python35": 342, "centos8-modularitylabel": 517} {
			want[k] = v
		}
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skip("the CentOS databases are not in this machine's module cache")
	}
	for name, n := range want {
		b, err := os.ReadFile(filepath.Join(dir, name, "Packages"))
		if err != nil {
			t.Fatal(err)
		}
		got, digests := 0, 0
		for _, f := range (rpmCataloger{}).Parse(&fileOf("/var/lib/rpm/Packages", b).File, b) {
			if f.Warning != "" {
				t.Errorf("%s: %s", name, f.Warning)
			}
			if f.Package != nil {
				got++
				digests += len(f.Package.Digests)
			}
		}
		if got != n || digests == 0 {
			t.Errorf("%s: %d packages (%d digests), rpm says %d", name, got, digests, n)
		}
	}
}

func TestRPMImageLayers(t *testing.T) {
	b := readHost(t, "testdata/rpm/rpmdb.sqlite")
	ref := buildImage(t, layer{"ubi", []file{
		reg("/etc/os-release", "ID=\"rhel\"\nVERSION_ID=\"9.3\"\n"),
		{name: "/var/lib/rpm/rpmdb.sqlite", body: b, mode: 0o644},
	}})
	r, _, _ := catalogOf(t, ref)
	tool := one(t, r, RPM, "tool")
	if want := "pkg:rpm/rhel/tool@2.0.1-1.el9?arch=x86_64&distro=rhel-9.3&epoch=2"; tool.PURL != want {
		t.Errorf("purl = %s, want %s", tool.PURL, want)
	}
}

func TestRPMHeaderHostile(t *testing.T) {
	for _, b := range [][]byte{nil, {0, 0, 0, 1}, {0, 0, 0, 1, 0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if p, err := parseRPMHeader(b); err == nil && p != nil {
			t.Errorf("%x parsed as %+v", b, p)
		}
	}
	if _, err := bdbValues(make([]byte, 4096)); err == nil {
		t.Error("zeros read as BDB")
	}
	if _, err := sqliteRPMBlobs([]byte("SQLite format 3\x00")); err == nil {
		t.Error("a bare SQLite header read as a database")
	}
}
