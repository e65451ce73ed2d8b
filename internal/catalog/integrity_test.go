package catalog

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestVerifyIntegrity(t *testing.T) {
	status := func(sslVersion string) string {
		return stanza("openssl", sslVersion, "amd64", "") + stanza("coreutils", "9.1-1", "amd64", "")
	}
	ref := buildImage(t,
		layer{"base", []file{
			reg("/etc/os-release", debOSRelease),
			reg("/var/lib/dpkg/status", status("3.0.11-1~deb12u1")),
			reg("/var/lib/dpkg/info/openssl.list", "/usr/bin/openssl\n"),
			reg("/var/lib/dpkg/info/openssl.md5sums", md5hex("good ssl")+"  usr/bin/openssl\n"),
			reg("/var/lib/dpkg/info/coreutils.md5sums", md5hex("ls")+"  bin/ls\n"+md5hex("cat")+"  bin/cat\n"+md5hex("gone")+"  usr/bin/gone\n"),
			symlink("/bin", "usr/bin"),
			bin("/usr/bin/openssl", []byte("good ssl")),
			bin("/usr/bin/ls", []byte("ls")),
			bin("/usr/bin/cat", []byte("cat")),
			bin("/usr/bin/gone", []byte("gone")),
		}},
		layer{"RUN tamper", []file{
			bin("/usr/bin/ls", []byte("ls with a backdoor")),
			whiteout("/usr/bin/gone"),
		}},
		layer{"RUN sed -i s/deb12u1/deb12u9/ /var/lib/dpkg/status", []file{
			reg("/var/lib/dpkg/status", status("3.0.11-1~deb12u9")),
		}},
	)
	r, idx, _ := catalogOf(t, ref, Hasher{})
	problems, unverified := Verify(idx, r)
	got := map[string]Problem{}
	for _, p := range problems {
		got[p.Kind+" "+p.Path] = p
	}
	if p, ok := got[Modified+" /bin/ls"]; !ok || p.Layer != 1 || p.Package.Name != "coreutils" || p.Actual != "md5:"+md5hex("ls with a backdoor") {
		t.Errorf("modified /bin/ls not reported right: %+v", problems)
	}
	if _, ok := got[Missing+" /usr/bin/gone"]; !ok {
		t.Errorf("missing /usr/bin/gone not reported: %+v", problems)
	}
	if p, ok := got[VersionRewritten+" "]; !ok || p.Expected != "3.0.11-1~deb12u1" || p.Actual != "3.0.11-1~deb12u9" || p.Layer != 2 {
		t.Errorf("version rewrite not reported: %+v", problems)
	}
	if len(problems) != 3 || unverified != 0 {
		t.Errorf("%d problems (want 3), %d unverified: %+v", len(problems), unverified, problems)
	}
}

func TestVerifyCleanUpgrade(t *testing.T) {
	ref := buildImage(t,
		layer{"base", []file{
			reg("/var/lib/dpkg/status", stanza("openssl", "1", "amd64", "")),
			reg("/var/lib/dpkg/info/openssl.md5sums", md5hex("v1")+"  usr/bin/openssl\n"),
			bin("/usr/bin/openssl", []byte("v1")),
		}},
		layer{"RUN apt-get upgrade", []file{
			reg("/var/lib/dpkg/status", stanza("openssl", "2", "amd64", "")),
			reg("/var/lib/dpkg/info/openssl.md5sums", md5hex("v2")+"  usr/bin/openssl\n"),
			bin("/usr/bin/openssl", []byte("v2")),
		}},
	)
	r, idx, _ := catalogOf(t, ref, Hasher{Algorithms: []string{"md5"}})
	if problems, _ := Verify(idx, r); len(problems) != 0 {
		t.Errorf("a real upgrade was reported: %+v", problems)
	}
}

func TestVerifyPythonRecord(t *testing.T) {
	sp := "/usr/local/lib/python3.12/site-packages/"
	record := "requests/__init__.py,sha256=" + b64sha256("ok") + ",2\n" +
		"requests/api.py,sha256=" + b64sha256("api") + ",3\n" +
		"../../../bin/req,sha256=" + b64sha256("#!") + ",2\n" +
		"requests-2.31.0.dist-info/RECORD,,\n"
	ref := buildImage(t,
		layer{"RUN pip install requests", []file{
			reg(sp+"requests-2.31.0.dist-info/METADATA", "Name: requests\nVersion: 2.31.0\n"),
			reg(sp+"requests-2.31.0.dist-info/RECORD", record),
			reg(sp+"requests/__init__.py", "ok"),
			reg(sp+"requests/api.py", "api"),
			bin("/usr/local/bin/req", []byte("#!")),
		}},
		layer{"RUN sed -i ... api.py", []file{reg(sp+"requests/api.py", "evil")}},
	)
	r, idx, _ := catalogOf(t, ref, Hasher{Algorithms: []string{"sha256"}})
	p := one(t, r, PyPI, "requests")
	if len(p.Files) != 4 || len(p.Digests) != 3 {
		t.Errorf("files %v digests %v", p.Files, p.Digests)
	}
	problems, unverified := Verify(idx, r)
	if len(problems) != 1 || problems[0].Path != sp+"requests/api.py" || problems[0].Kind != Modified || unverified != 0 {
		t.Errorf("problems %+v, unverified %d", problems, unverified)
	}
}

func b64sha256(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
