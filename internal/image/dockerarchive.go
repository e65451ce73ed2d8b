package image

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// dockerManifest is one entry of a docker-archive's manifest.json (docker save).
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func openDockerArchive(im *Image, ref string) error {
	file, tag := splitTag(ref)
	s, err := openTarStore(file, im.opts.Limits.MaxFiles)
	if err != nil {
		return withRef(err, im.ref, ErrNotImage)
	}
	im.closers = append(im.closers, s.f.Close)
	return im.fromDockerArchive(s, tag)
}

func (im *Image) fromDockerArchive(s *tarStore, tag string) error {
	raw, err := readAll(s, "manifest.json", im.opts.Limits.MaxConfigBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			hint := "not a docker save archive: no manifest.json"
			if s.has("index.json") {
				hint = "it is an OCI layout: use oci-archive:"
			}
			return newErr(ErrNotImage, im.ref, hint, nil)
		}
		return withRef(err, im.ref, ErrNotImage)
	}
	var ms []dockerManifest
	if err := decodeJSON("manifest.json", raw, &ms); err != nil {
		return newErr(ErrNotImage, im.ref, "", err)
	}
	m, err := im.pickDockerManifest(ms, tag)
	if err != nil {
		return err
	}
	cfg, err := readAll(s, m.Config, im.opts.Limits.MaxConfigBytes)
	if err != nil {
		return withRef(err, im.ref, ErrCorrupt)
	}
	if h, ok := digestFromName(m.Config); ok {
		if err := checkDigest(cfg, h); err != nil {
			return withRef(err, im.ref, ErrCorrupt)
		}
	}
	descs := make([]v1.Descriptor, len(m.Layers))
	srcs := make([]layerSource, len(m.Layers))
	for i, name := range m.Layers {
		if !s.has(name) {
			return newErr(ErrCorrupt, im.ref, "", fmt.Errorf("layer %d (%s) is missing from the archive", i, clip(name)))
		}
		descs[i].Size = -1
		if h, ok := digestFromName(name); ok {
			descs[i].Digest = h
		}
		if _, size, err := s.open(name); err == nil {
			descs[i].Size = size
		}
		srcs[i] = blobSource(s, name)
	}
	return im.setImage(cfg, descs, srcs)
}

func (im *Image) pickDockerManifest(ms []dockerManifest, tag string) (dockerManifest, error) {
	var tags []string
	for _, m := range ms {
		for _, t := range m.RepoTags {
			tags = append(tags, t)
			if tag != "" && (t == tag || strings.HasSuffix(t, ":"+tag)) {
				return m, nil
			}
		}
	}
	switch {
	case tag != "":
		return dockerManifest{}, newErr(ErrNotFound, im.ref, tagHint(tags), fmt.Errorf("no image tagged %q", tag))
	case len(ms) == 1:
		return ms[0], nil
	case len(ms) == 0:
		return dockerManifest{}, newErr(ErrNotImage, im.ref, "", errors.New("manifest.json lists no images"))
	}
	return dockerManifest{}, newErr(ErrNotFound, im.ref, tagHint(tags), fmt.Errorf("the archive holds %d images", len(ms)))
}

// contentName matches member names that carry their content's digest: the OCI-style
// "blobs/sha256/<hex>" of current docker save, and "<hex>.json" configs.
var contentName = regexp.MustCompile(`^(?:blobs/sha256/([a-f0-9]{64})|([a-f0-9]{64})\.json)$`)

// digestFromName returns the digest a member's name promises. Legacy layer names
// ("<id>/layer.tar") carry no digest; those layers are checked by diffID alone.
func digestFromName(name string) (v1.Hash, bool) {
	m := contentName.FindStringSubmatch(path.Clean(name))
	if m == nil {
		return v1.Hash{}, false
	}
	return v1.Hash{Algorithm: "sha256", Hex: m[1] + m[2]}, true
}
