package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root user every packed image runs as, with distroless's numbers so that
// manifests written for distroless images (runAsUser: 65532) fit.
const (
	NonRootUID  = 65532
	NonRootName = "nonroot"
	HomeDir     = "/home/nonroot"
	CAPath      = "/etc/ssl/certs/ca-certificates.crt"
)

// gzipLevel is fixed: the compressed bytes, hence the layer digests, depend on it.
const gzipLevel = gzip.DefaultCompression

// entry is one file or directory of a layer.
type entry struct {
	name     string // absolute, clean
	dir      bool
	mode     int64
	uid, gid int
	data     []byte
}

const passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
	"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
	"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"

const group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"

// baseEntries are the operating-system files a static Go program needs: users to run
// as, CA certificates for TLS, a resolver configuration, a writable /tmp and a home.
func baseEntries(caBundle []byte) []entry {
	return []entry{
		{name: "/etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "/etc/group", mode: 0o644, data: []byte(group)},
		{name: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: CAPath, mode: 0o644, data: caBundle},
		{name: "/tmp", dir: true, mode: 0o1777},
		{name: HomeDir, dir: true, mode: 0o700, uid: NonRootUID, gid: NonRootUID},
	}
}

// binaryEntries holds the program.
func binaryEntries(binPath string, bin []byte) []entry {
	return []entry{{name: binPath, mode: 0o755, data: bin}}
}

// layerTar writes entries as a tar stream in a fixed form: parent directories added
// (root-owned, 0755), entries sorted by name, every header with the same mtime, numeric
// owners only, USTAR format (no access or change times, no PAX records).
func layerTar(entries []entry, mtime time.Time) ([]byte, error) {
	all := map[string]entry{}
	for _, e := range entries {
		all[e.name] = e
		for d := path.Dir(e.name); d != "/" && d != "."; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				all[d] = entry{name: d, dir: true, mode: 0o755}
			}
		}
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := all[n]
		h := &tar.Header{
			Name: strings.TrimPrefix(n, "/"), Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: mtime, Format: tar.FormatUSTAR,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !e.dir {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses with an empty header (no name, no time, OS unknown) at a fixed
// level, so the same tar always gives the same blob.
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzipLevel)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newLayer makes an OCI layer of entries.
func newLayer(entries []entry, mtime time.Time) (v1.Layer, error) {
	raw, err := layerTar(entries, mtime)
	if err != nil {
		return nil, err
	}
	gz, err := gzipBytes(raw)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
