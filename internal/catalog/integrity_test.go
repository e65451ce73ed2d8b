package catalog

import (
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
