package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is how a layer blob is stored, detected from its first bytes rather than
// trusted from the media type.
type Compression string

// The compressions a layer can have.
const (
	Uncompressed Compression = "none"
	Gzip         Compression = "gzip"
	Zstd         Compression = "zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// hashingReader hashes and counts what passes through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: sha256.New()}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	return n, err
}

func (hr *hashingReader) sum() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", hr.h.Sum(nil))}
}

// budget is the decompressed bytes an image may still produce; layers read in parallel
// share it.
type budget struct{ left atomic.Int64 }

// limitedReader enforces the per-layer, per-image and ratio limits on a decompressed
// stream. compressed counts the bytes that went in.
type limitedReader struct {
	r          io.Reader
	n          int64
	lim        *Limits
	img        *budget
	compressed *hashingReader
}

func (lr *limitedReader) Read(p []byte) (int, error) {
	n, err := lr.r.Read(p)
	lr.n += int64(n)
	if lr.n > lr.lim.MaxLayerBytes {
		return n, limitErr("layer decompresses to more than %d bytes (Limits.MaxLayerBytes)", lr.lim.MaxLayerBytes)
	}
	if lr.img.left.Add(-int64(n)) < 0 {
		return n, limitErr("image decompresses to more than %d bytes (Limits.MaxImageBytes)", lr.lim.MaxImageBytes)
	}
	if lr.n > lr.lim.RatioFloor && lr.compressed != nil && lr.n > lr.lim.MaxRatio*max(lr.compressed.n, 1) {
		return n, limitErr("layer expands more than %d:1 (Limits.MaxRatio): a decompression bomb?", lr.lim.MaxRatio)
	}
	return n, err
}

func limitErr(format string, a ...any) error {
	return &Error{Kind: ErrLimit, Err: fmt.Errorf(format, a...)}
}

// layerStream is one layer blob being read: compressed digest, decompression and
// diffID, in one pass.
type layerStream struct {
	blob   *hashingReader // the stored bytes
	raw    io.Reader      // the decompressed bytes, limited
	tar    *hashingReader // what the tar reader sees, hashed for the diffID
	dec    io.Closer      // the decompressor, if any
	comp   Compression
	closer io.Closer
}

func openStream(rc io.ReadCloser, lim *Limits, img *budget) (*layerStream, error) {
	s := &layerStream{blob: newHashingReader(rc), closer: rc}
	br := bufio.NewReaderSize(s.blob, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var dec io.Reader = br
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		s.comp = Gzip
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		dec, s.dec = zr, zr
	case bytes.HasPrefix(magic, zstdMagic):
		s.comp = Zstd
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		dec, s.dec = zr, closerFunc(func() error { zr.Close(); return nil })
	default:
		s.comp = Uncompressed
	}
	var ratioBase *hashingReader
	if s.comp != Uncompressed {
		ratioBase = s.blob
	}
	s.tar = newHashingReader(&limitedReader{r: dec, lim: lim, img: img, compressed: ratioBase})
	s.raw = s.tar
	return s, nil
}

// finish drains what the tar reader left (end-of-archive padding, trailing data) so
// both digests cover the whole blob, then returns them.
func (s *layerStream) finish() (blob, diffID v1.Hash, err error) {
	if _, err := io.Copy(io.Discard, s.raw); err != nil {
		return blob, diffID, err
	}
	if _, err := io.Copy(io.Discard, s.blob); err != nil {
		return blob, diffID, err
	}
	return s.blob.sum(), s.tar.sum(), nil
}

func (s *layerStream) Close() error {
	if s.dec != nil {
		_ = s.dec.Close()
	}
	return s.closer.Close()
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
