package pack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/charterhq/charter/internal/image"
)

// Media types of the attached documents.
const (
	CycloneDXMediaType = "application/vnd.cyclonedx+json"
	InTotoMediaType    = "application/vnd.in-toto+json"
	emptyMediaType     = "application/vnd.oci.empty.v1+json"
	refNameAnnotation  = "org.opencontainers.image.ref.name"
	// packForAnnotation marks a referrer's entry in a layout's index.json with the tag of
	// the image it describes, so that packing the same tag again replaces it.
	packForAnnotation = "dev.charter.pack.for"
)

// emptyJSON is the OCI empty descriptor's content, the config of an artifact manifest.
var emptyJSON = []byte("{}")

// Referrer is one document attached to an image as an OCI 1.1 referrer.
type Referrer struct {
	// Subject is the image it is about.
	Subject v1.Hash
	// Manifest is the referrer manifest; Digest its digest.
	Manifest []byte
	Digest   v1.Hash
	// ArtifactType is the document's media type.
	ArtifactType string
	// Blob is the document.
	Blob []byte
}

// Referrers are the SBOM and the provenance of every image, in a fixed order.
func (r *Result) Referrers(epoch time.Time) ([]Referrer, error) {
	var out []Referrer
	for _, b := range r.Images {
		sub, err := descriptorOf(b.Image)
		if err != nil {
			return nil, err
		}
		for _, doc := range []struct {
			mt   string
			data []byte
			ann  map[string]string
		}{
			{CycloneDXMediaType, b.SBOM, nil},
			{InTotoMediaType, b.Provenance, map[string]string{"in-toto.io/predicate-type": SLSAProvenanceV1}},
		} {
			ref, err := newReferrer(sub, doc.mt, doc.data, doc.ann, epoch)
			if err != nil {
				return nil, err
			}
			out = append(out, ref)
		}
	}
	return out, nil
}

func descriptorOf(img v1.Image) (v1.Descriptor, error) {
	d, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	n, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: n}, nil
}

// newReferrer wraps a document in an OCI 1.1 artifact manifest: the empty config, the
// document as its one layer, the image as its subject.
func newReferrer(subject v1.Descriptor, mediaType string, data []byte, ann map[string]string, epoch time.Time) (Referrer, error) {
	blob, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return Referrer{}, err
	}
	emptyDigest, _, err := v1.SHA256(bytes.NewReader(emptyJSON))
	if err != nil {
		return Referrer{}, err
	}
	a := map[string]string{"org.opencontainers.image.created": epoch.UTC().Format(time.RFC3339)}
	for k, v := range ann {
		a[k] = v
	}
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: mediaType,
		Config:  v1.Descriptor{MediaType: emptyMediaType, Digest: emptyDigest, Size: int64(len(emptyJSON)), Data: emptyJSON},
		Layers:  []v1.Descriptor{{MediaType: types.MediaType(mediaType), Digest: blob, Size: int64(len(data))}},
		Subject: &subject, Annotations: a,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Referrer{}, err
	}
	d, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return Referrer{}, err
	}
	return Referrer{Subject: subject.Digest, Manifest: raw, Digest: d, ArtifactType: mediaType, Blob: data}, nil
}

// WriteLayout writes the image (or index) into the OCI layout at dir under tag, with its
// referrers. An existing layout keeps its other images; an earlier pack of the same tag
// is replaced. The blobs of the image are written before index.json names them.
func (r *Result) WriteLayout(dir, tag string, epoch time.Time) error {
	p, err := openLayout(dir)
	if err != nil {
		return err
	}
	if err := p.RemoveDescriptors(match.Annotation(refNameAnnotation, tag)); err != nil {
		return err
	}
	if err := p.RemoveDescriptors(match.Annotation(packForAnnotation, tag)); err != nil {
		return err
	}
	opt := layout.WithAnnotations(map[string]string{refNameAnnotation: tag})
	if r.Index != nil {
		err = p.AppendIndex(r.Index, opt)
	} else {
		err = p.AppendImage(r.Images[0].Image, opt)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	refs, err := r.Referrers(epoch)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		for _, blob := range [][]byte{emptyJSON, ref.Blob, ref.Manifest} {
			h, _, err := v1.SHA256(bytes.NewReader(blob))
			if err != nil {
				return err
			}
			if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(blob))); err != nil {
				return err
			}
		}
		if err := p.AppendDescriptor(v1.Descriptor{
			MediaType: types.OCIManifestSchema1, Digest: ref.Digest, Size: int64(len(ref.Manifest)),
			ArtifactType: ref.ArtifactType, Annotations: map[string]string{packForAnnotation: tag},
		}); err != nil {
			return err
		}
	}
	return nil
}

// openLayout opens the layout at dir, or makes one where there is nothing yet.
func openLayout(dir string) (layout.Path, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return layout.FromPath(dir)
	}
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%s is not empty and is not an OCI layout (no index.json); pick an empty or new directory", dir)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return layout.Write(dir, empty.Index)
}

// Push writes the image (or index) to ref and its referrers beside it, in the same
// repository, by digest. It returns the pushed reference by digest.
func (r *Result) Push(ctx context.Context, ref string, opts image.Options, epoch time.Time) (string, error) {
	reg, err := image.ParseRegistry(ref, opts)
	if err != nil {
		return "", err
	}
	ropts := append(reg.Options[:len(reg.Options):len(reg.Options)], remote.WithContext(ctx))
	if r.Index != nil {
		err = remote.WriteIndex(reg.Ref, r.Index, ropts...)
	} else {
		err = remote.Write(reg.Ref, r.Images[0].Image, ropts...)
	}
	if err != nil {
		return "", reg.Error(err)
	}
	repo := reg.Ref.Context()
	refs, err := r.Referrers(epoch)
	if err != nil {
		return "", err
	}
	for _, rf := range refs {
		for _, l := range []v1.Layer{static.NewLayer(emptyJSON, emptyMediaType), static.NewLayer(rf.Blob, types.MediaType(rf.ArtifactType))} {
			if err := remote.WriteLayer(repo, l, ropts...); err != nil {
				return "", reg.Error(err)
			}
		}
		if err := remote.Put(repo.Digest(rf.Digest.String()), rawManifest(rf.Manifest), ropts...); err != nil {
			return "", reg.Error(err)
		}
	}
	return repo.Name() + "@" + r.Digest.String(), nil
}

// rawManifest is a manifest pushed as its exact bytes.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
