package catalog

import (
	"encoding/binary"
	"runtime/debug"
	"testing"
)

// inlineBuildInfoSample lays out Go 1.18+ build information as the linker does.
func inlineBuildInfoSample() []byte {
	mod := "path\tgithub.com/acme/app\nmod\tgithub.com/acme/app\tv1.2.3\th1:x=\ndep\tgolang.org/x/net\tv0.20.0\th1:y=\n=>\tgolang.org/x/net\tv0.21.0\th1:z=\n"
	mod = "0123456789abcdef" + mod + "0123456789abcdef"
	b := make([]byte, 48) // padding so the header is 16-aligned after the ELF magic
	hdr := make([]byte, 32)
	copy(hdr, goBuildInfoMagic)
	hdr[14], hdr[15] = 8, 2
	b = append(b[:12], hdr...)
	b = binary.AppendUvarint(b, uint64(len("go1.22.1")))
	b = append(b, "go1.22.1"...)
	b = binary.AppendUvarint(b, uint64(len(mod)))
	return append(b, mod...)
}

func TestInlineBuildInfo(t *testing.T) {
	b := append([]byte("\x7fELF"), inlineBuildInfoSample()...)
	f := fileOf("/app", b).File
	f.Size += 100 // capped by the walk
	found := goCataloger{}.Parse(&f, b)
	got := map[string]string{}
	for _, x := range found {
		got[x.Package.Name] = x.Package.Version
	}
	if got["github.com/acme/app"] != "v1.2.3" || got["golang.org/x/net"] != "v0.21.0" || got["stdlib"] != "go1.22.1" {
		t.Errorf("packages = %v", got)
	}
}

func TestLdflagsVersion(t *testing.T) {
	mod := "path\tgithub.com/acme/app/cmd/app\nmod\tgithub.com/acme/app\t(devel)\t\nbuild\t-ldflags=\"-s -w -X github.com/acme/app/internal/version.Version=v0.2.56\"\n"
	bi, err := debug.ParseBuildInfo(mod)
	if err != nil {
		t.Fatal(err)
	}
	found := goPackages(bi)
	if found[0].Package.Version != "v0.2.56" {
		t.Errorf("main module = %+v", found[0].Package)
	}
}
