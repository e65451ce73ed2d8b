package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const refNameAnnotation = "org.opencontainers.image.ref.name"

// maxIndexDepth bounds indexes nested in indexes.
const maxIndexDepth = 4

func openOCIDir(im *Image, ref string) error {
	dir, tag := splitTag(ref)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return newErr(ErrNotFound, im.ref, "oci-dir: wants a directory holding an OCI image layout (index.json, blobs/)", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return newErr(ErrNotFound, im.ref, "", err)
	}
	im.closers = append(im.closers, root.Close)
	return im.fromLayout(dirStore{root}, tag)
}

func openOCIArchive(im *Image, ref string) error {
	file, tag := splitTag(ref)
	s, err := openTarStore(file, im.opts.Limits.MaxFiles)
	if err != nil {
		return withRef(err, im.ref, ErrNotImage)
	}
	im.closers = append(im.closers, s.f.Close)
	return im.fromLayout(s, tag)
}

// withRef names the reference in an error from a helper that did not know it.
func withRef(err error, ref string, kind error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Ref = ref
		return &c
	}
	return newErr(kind, ref, "", err)
}

// fromLayout reads an OCI image layout: index.json, then down to one image manifest
// by tag and platform.
func (im *Image) fromLayout(s blobStore, tag string) error {
	raw, err := readAll(s, "index.json", im.opts.Limits.MaxConfigBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return newErr(ErrNotImage, im.ref, "not an OCI image layout: no index.json", nil)
		}
		return withRef(err, im.ref, ErrNotImage)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return newErr(ErrNotImage, im.ref, "", fmt.Errorf("index.json: %w", err))
	}
	desc, err := im.pickByTag(idx, tag)
	if err != nil {
		return err
	}
	if desc.MediaType.IsIndex() {
		im.index = desc.Digest
	}
	for depth := 0; desc.MediaType.IsIndex(); depth++ {
		if depth == maxIndexDepth {
			return newErr(ErrNotImage, im.ref, "", errors.New("indexes nested too deep"))
		}
		b, err := readBlob(s, desc, im.opts.Limits.MaxConfigBytes)
		if err != nil {
			return withRef(err, im.ref, ErrCorrupt)
		}
		child, err := v1.ParseIndexManifest(bytes.NewReader(b))
		if err != nil {
			return newErr(ErrNotImage, im.ref, "", fmt.Errorf("index %s: %w", desc.Digest, err))
		}
		if desc, err = im.pickPlatform(child); err != nil {
			return err
		}
	}
	mb, err := readBlob(s, desc, im.opts.Limits.MaxConfigBytes)
	if err != nil {
		return withRef(err, im.ref, ErrCorrupt)
	}
	m, err := parseManifest(im.ref, mb)
	if err != nil {
		return err
	}
	cb, err := readBlob(s, m.Config, im.opts.Limits.MaxConfigBytes)
	if err != nil {
		return withRef(err, im.ref, ErrCorrupt)
	}
	im.digest = desc.Digest
	srcs := make([]layerSource, len(m.Layers))
	for i, l := range m.Layers {
		if l.Digest.Algorithm != "sha256" || !hexDigest.MatchString(l.Digest.Hex) {
			return newErr(ErrCorrupt, im.ref, "", fmt.Errorf("layer %d has unsupported digest %q", i, l.Digest))
		}
		srcs[i] = blobSource(s, blobPath(l.Digest))
	}
	return im.setImage(cb, m.Layers, srcs)
}

// pickByTag chooses the entry of index.json that a tag (or no tag) names.
func (im *Image) pickByTag(idx *v1.IndexManifest, tag string) (v1.Descriptor, error) {
	var tags []string
	for _, d := range idx.Manifests {
		name := d.Annotations[refNameAnnotation]
		if name != "" {
			tags = append(tags, name)
		}
		if tag != "" && (name == tag || strings.HasSuffix(name, ":"+tag)) {
			return d, nil
		}
	}
	switch {
	case tag != "":
		return v1.Descriptor{}, newErr(ErrNotFound, im.ref, tagHint(tags), fmt.Errorf("no image tagged %q", tag))
	case len(idx.Manifests) == 1:
		return idx.Manifests[0], nil
	case len(idx.Manifests) == 0:
		return v1.Descriptor{}, newErr(ErrNotImage, im.ref, "", errors.New("index.json lists no images"))
	case len(tags) == 0 || allHavePlatform(idx):
		// One image for several platforms, listed straight in index.json.
		return im.pickPlatform(idx)
	}
	return v1.Descriptor{}, newErr(ErrNotFound, im.ref, tagHint(tags), fmt.Errorf("the layout holds %d images", len(idx.Manifests)))
}

func tagHint(tags []string) string {
	if len(tags) == 0 {
		return "the layout names no tags"
	}
	sort.Strings(tags)
	if len(tags) > 10 {
		tags = append(tags[:10], "…")
	}
	return "pick one with :TAG; tags: " + strings.Join(tags, ", ")
}

func allHavePlatform(idx *v1.IndexManifest) bool {
	for _, d := range idx.Manifests {
		if d.Platform == nil {
			return false
		}
	}
	return true
}

// pickPlatform chooses the manifest for Options.Platform from a multi-platform index.
func (im *Image) pickPlatform(idx *v1.IndexManifest) (v1.Descriptor, error) {
	want, err := im.opts.platform()
	if err != nil {
		return v1.Descriptor{}, newErr(ErrInvalidRef, im.ref, "", err)
	}
	var have []string
	for _, d := range idx.Manifests {
		p := d.Platform
		if p == nil || p.OS == "unknown" {
			continue // attestation manifests and the like
		}
		have = append(have, p.String())
		if p.OS == want.OS && p.Architecture == want.Architecture && (want.Variant == "" || p.Variant == want.Variant) {
			return d, nil
		}
	}
	hint := "the index lists no platforms"
	if len(have) > 0 {
		hint = "pick one with --platform: " + strings.Join(have, ", ")
	}
	return v1.Descriptor{}, newErr(ErrNotFound, im.ref, hint, fmt.Errorf("no image for platform %s", want))
}

// parseManifest checks that a manifest is a container image's and not some other
// artifact's (signatures, Helm charts, SBOMs stored in a registry).
func parseManifest(ref string, b []byte) (*v1.Manifest, error) {
	m, err := v1.ParseManifest(bytes.NewReader(b))
	if err != nil {
		return nil, newErr(ErrNotImage, ref, "", fmt.Errorf("manifest: %w", err))
	}
	switch m.Config.MediaType {
	case types.DockerConfigJSON, types.OCIConfigJSON:
	default:
		return nil, newErr(ErrNotImage, ref, "it is an artifact, not an image", fmt.Errorf("config media type %q", m.Config.MediaType))
	}
	for _, l := range m.Layers {
		if !knownLayerTypes[l.MediaType] {
			return nil, newErr(ErrNotImage, ref, "", fmt.Errorf("layer media type %q", l.MediaType))
		}
	}
	return m, nil
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// readBlob reads a small blob (manifest, index, config) and checks its digest.
func readBlob(s blobStore, d v1.Descriptor, maxBytes int64) ([]byte, error) {
	if d.Digest.Algorithm != "sha256" || !hexDigest.MatchString(d.Digest.Hex) {
		return nil, &Error{Kind: ErrCorrupt, Err: fmt.Errorf("unsupported digest %q", d.Digest)}
	}
	b, err := readAll(s, blobPath(d.Digest), maxBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Kind: ErrCorrupt, Err: fmt.Errorf("blob %s is missing", d.Digest)}
		}
		return nil, err
	}
	return b, checkDigest(b, d.Digest)
}

func checkDigest(b []byte, want v1.Hash) error {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want.Hex {
		return &Error{Kind: ErrCorrupt, Err: fmt.Errorf("blob %s has digest sha256:%s", want, got)}
	}
	return nil
}

// decodeJSON is json.Unmarshal with a message that names what was being read.
func decodeJSON(what string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
