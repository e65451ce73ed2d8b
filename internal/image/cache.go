package image

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The layer cache is content-addressed: a layer's entry lives under its diffID, so any
// image that shares the layer shares the entry, and a changed layer is a new entry.
// Files are written to a temporary name and renamed, so a reader never sees half an
// entry. A hit trusts that the layer matches the config's diffID, as the container
// runtime will check on pull; a miss verifies both digests while reading.
//
//	DIR/layers/v1/sha256/<hex>/index.gob          file index, whiteouts, anomalies
//	DIR/layers/v1/sha256/<hex>/a-<name>-<hash>.json   one analyzer's records
const cacheFormat = "v1"

type cache struct{ dir string }

func openCache(dir string) (*cache, error) {
	root := filepath.Join(dir, "layers", cacheFormat)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("layer cache %s: %w", root, err)
	}
	return &cache{dir: root}, nil
}

var hexDigest = regexp.MustCompile(`^[a-f0-9]{64}$`)

// layerDir is the entry's directory; ok is false for a digest that cannot name one
// (never build a path from anything else).
func (c *cache) layerDir(l *Layer) (string, bool) {
	if l.DiffID.Algorithm != "sha256" || !hexDigest.MatchString(l.DiffID.Hex) {
		return "", false
	}
	return filepath.Join(c.dir, "sha256", l.DiffID.Hex), true
}

func recordsFile(id string) string {
	sum := sha256.Sum256([]byte(id))
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, id)
	return "a-" + safe + "-" + hex.EncodeToString(sum[:6]) + ".json"
}

// cachedIndex is what a layer's index entry holds.
type cachedIndex struct {
	DiffID    string
	Files     []File
	Whiteouts []string
	Opaque    []string
	Anomalies []Anomaly
}

// load fills l from the cache when the index and every analyzer's records are there.
func (c *cache) load(l *Layer, as []Analyzer) bool {
	dir, ok := c.layerDir(l)
	if !ok {
		return false
	}
	var recs []Record
	for _, a := range as {
		var r []Record
		if !readJSON(filepath.Join(dir, recordsFile(a.ID())), &r) {
			return false
		}
		recs = append(recs, r...)
	}
	f, err := os.Open(filepath.Join(dir, "index.gob"))
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	var ci cachedIndex
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&ci); err != nil || ci.DiffID != l.DiffID.String() {
		return false
	}
	l.Files, l.Whiteouts, l.Opaque, l.Anomalies = ci.Files, ci.Whiteouts, ci.Opaque, ci.Anomalies
	for i := range l.Files {
		l.Files[i].Layer = l.Index
	}
	for i := range l.Anomalies {
		l.Anomalies[i].Layer = l.Index
	}
	for i := range recs {
		recs[i].Layer = l.Index
	}
	l.Records = recs
	return true
}

func readJSON(name string, v any) bool {
	b, err := os.ReadFile(name)
	return err == nil && json.Unmarshal(b, v) == nil
}

// store writes l's index and each analyzer's records.
func (c *cache) store(l *Layer, as []Analyzer) error {
	dir, ok := c.layerDir(l)
	if !ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ci := cachedIndex{DiffID: l.DiffID.String(), Files: l.Files, Whiteouts: l.Whiteouts, Opaque: l.Opaque, Anomalies: l.Anomalies}
	err := writeAtomic(dir, "index.gob", func(w io.Writer) error { return gob.NewEncoder(w).Encode(&ci) })
	if err != nil {
		return err
	}
	for _, a := range as {
		recs := []Record{}
		for _, r := range l.Records {
			if r.Analyzer == a.ID() {
				recs = append(recs, r)
			}
		}
		err := writeAtomic(dir, recordsFile(a.ID()), func(w io.Writer) error { return json.NewEncoder(w).Encode(recs) })
		if err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes dir/name through a temporary file in dir and a rename.
func writeAtomic(dir, name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}

// configDir holds image configs by digest, so a daemon image whose layers are all
// cached can be scanned without exporting it.
func (o Options) configDir() (string, bool) {
	if o.NoCache {
		return "", false
	}
	dir, err := o.cacheDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "configs", cacheFormat, "sha256"), true
}

func (im *Image) cachedConfig(id v1.Hash) ([]byte, bool) {
	dir, ok := im.opts.configDir()
	if !ok || id.Algorithm != "sha256" || !hexDigest.MatchString(id.Hex) {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(dir, id.Hex+".json"))
	if err != nil || int64(len(b)) > im.opts.Limits.MaxConfigBytes || checkDigest(b, id) != nil {
		return nil, false
	}
	return b, true
}

// storeConfig keeps the image's config by digest; failing costs only a later export.
func (im *Image) storeConfig() {
	dir, ok := im.opts.configDir()
	if !ok || im.rawConfig == nil {
		return
	}
	sum := sha256.Sum256(im.rawConfig)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	err := writeAtomic(dir, hex.EncodeToString(sum[:])+".json", func(w io.Writer) error {
		_, err := w.Write(im.rawConfig)
		return err
	})
	if err != nil {
		im.opts.Logger.Warn("config not cached", "err", err)
	}
}
