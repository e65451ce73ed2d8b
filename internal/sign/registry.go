package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/charterhq/charter/internal/image"
)

// Limits bound what a hostile registry can make verification read.
type Limits struct {
	// MaxManifest bounds a signature, attestation or referrer manifest. Default 1 MiB.
	MaxManifest int64
	// MaxBlob bounds one payload, envelope or bundle. Default 8 MiB (an SBOM attestation
	// of a large image runs to a few MiB).
	MaxBlob int64
	// MaxEntries bounds the signature layers and referrers looked at. Default 64.
	MaxEntries int
}

func (l Limits) withDefaults() Limits {
	if l.MaxManifest <= 0 {
		l.MaxManifest = 1 << 20
	}
	if l.MaxBlob <= 0 {
		l.MaxBlob = 8 << 20
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 64
	}
	return l
}

// client is one call's connection to one registry. Every read shares one Puller and
// every write one Pusher, so the registry is pinged and a token fetched once per
// repository and scope for the whole call, not once per request: a cold verification
// of a classic signature is 4 requests (ping, tag, signature manifest, payload).
type client struct {
	*image.Registry
	pull *remote.Puller
	push *remote.Pusher
}

func newClient(reg *image.Registry) (*client, error) {
	pull, err := remote.NewPuller(reg.Options...)
	if err != nil {
		return nil, err
	}
	push, err := remote.NewPusher(reg.Options...)
	if err != nil {
		return nil, err
	}
	return &client{Registry: reg, pull: pull, push: push}, nil
}

// reading is the options of a read (Head, Get, Layer, Referrers) under ctx.
func (c *client) reading(ctx context.Context) []remote.Option {
	return []remote.Option{remote.Reuse(c.pull), remote.WithContext(ctx)}
}

// writing is the options of a write (Write, WriteLayer, Put, Tag) under ctx.
func (c *client) writing(ctx context.Context) []remote.Option {
	return []remote.Option{remote.Reuse(c.push), remote.WithContext(ctx)}
}

// connect parses ref and opens a client for its registry.
func connect(ref string, opts image.Options) (*client, error) {
	reg, err := image.ParseRegistry(ref, opts)
	if err != nil {
		return nil, err
	}
	return newClient(reg)
}

// target is an image resolved to its digest, with the client for its repository.
type target struct {
	reg    *client
	repo   name.Repository
	digest v1.Hash
	desc   v1.Descriptor // the image's manifest (or index) descriptor
	tag    string        // the tag it was named by, if any
	limits Limits
}

// resolve names the image by digest: a tag is looked up once, and everything after
// works on that digest, so a tag moved meanwhile cannot swap the image.
func resolve(ctx context.Context, ref string, opts image.Options, limits Limits) (*target, error) {
	reg, err := connect(ref, opts)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Head(reg.Ref, reg.reading(ctx)...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusMethodNotAllowed {
			var d *remote.Descriptor
			if d, err = remote.Get(reg.Ref, reg.reading(ctx)...); err == nil {
				desc = &d.Descriptor
			}
		}
		if err != nil {
			return nil, reg.Error(err)
		}
	}
	t := &target{reg: reg, repo: reg.Ref.Context(), digest: desc.Digest, limits: limits.withDefaults(),
		desc: v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}}
	if tag, ok := reg.Ref.(name.Tag); ok {
		t.tag = tag.TagStr()
	}
	if d, ok := reg.Ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return nil, reg.Error(fmt.Errorf("registry answered %s for %s", desc.Digest, d.DigestStr()))
	}
	return t, nil
}

// ref is the image by digest: HOST/REPO@sha256:….
func (t *target) ref() string { return t.repo.Name() + "@" + t.digest.String() }

// tagFor is the cosign tag for a suffix ("sig", "att", or "" for the referrers index).
func (t *target) tagFor(suffix string) name.Tag {
	tag := t.digest.Algorithm + "-" + t.digest.Hex
	if suffix != "" {
		tag += "." + suffix
	}
	return t.repo.Tag(tag)
}

// manifest fetches a small manifest, bounded, or nil when there is none.
func (t *target) manifest(ctx context.Context, ref name.Reference) (*v1.Manifest, v1.Hash, error) {
	d, err := remote.Get(ref, t.reg.reading(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, v1.Hash{}, nil
		}
		return nil, v1.Hash{}, t.reg.Error(err)
	}
	if int64(len(d.Manifest)) > t.limits.MaxManifest {
		return nil, d.Digest, fmt.Errorf("%s: manifest is %d bytes (limit %d)", ref, len(d.Manifest), t.limits.MaxManifest)
	}
	if !d.MediaType.IsImage() && d.MediaType != types.OCIManifestSchema1 {
		return nil, d.Digest, fmt.Errorf("%s: %s is not an image manifest", ref, d.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(d.Manifest))
	if err != nil {
		return nil, d.Digest, fmt.Errorf("%s: %w", ref, jsonErr(err))
	}
	return m, d.Digest, nil
}

func isNotFound(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		if te.StatusCode == http.StatusNotFound {
			return true
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return true
			}
		}
	}
	return false
}

// blob reads one blob of the repository, bounded, and checks its digest before anyone
// parses it.
func (t *target) blob(ctx context.Context, d v1.Descriptor) ([]byte, error) {
	if d.Size > t.limits.MaxBlob {
		return nil, fmt.Errorf("blob %s is %d bytes (limit %d)", d.Digest, d.Size, t.limits.MaxBlob)
	}
	l, err := remote.Layer(t.repo.Digest(d.Digest.String()), t.reg.reading(ctx)...)
	if err != nil {
		return nil, t.reg.Error(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, t.reg.Error(err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, t.limits.MaxBlob+1))
	if err != nil {
		if strings.Contains(err.Error(), "digest") {
			return nil, fmt.Errorf("blob %s: content does not match its digest", d.Digest)
		}
		return nil, t.reg.Error(err)
	}
	if int64(len(b)) > t.limits.MaxBlob {
		return nil, fmt.Errorf("blob %s is over %d bytes", d.Digest, t.limits.MaxBlob)
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil || h != d.Digest {
		return nil, fmt.Errorf("blob %s: content does not match its digest", d.Digest)
	}
	if d.Size > 0 && int64(len(b)) != d.Size {
		return nil, fmt.Errorf("blob %s: %d bytes, the manifest says %d", d.Digest, len(b), d.Size)
	}
	return b, nil
}

// referrers lists the manifests whose subject is the image: the referrers API, or the
// sha256-<hex> index tag where the registry has none.
func (t *target) referrers(ctx context.Context) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(t.repo.Digest(t.digest.String()), t.reg.reading(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, t.reg.Error(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("referrers of %s: %w", t.ref(), jsonErr(err))
	}
	return im.Manifests, nil
}

// referrerManifest is an OCI 1.1 image manifest with artifactType and subject, the shape
// a Sigstore bundle is stored in.
type referrerManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// putReferrer uploads data as the single layer of a referrer manifest about the image.
// The registry library keeps the sha256-<hex> index tag up to date when the registry
// does not index referrers itself.
func (t *target) putReferrer(ctx context.Context, data []byte, mediaType string, annotations map[string]string) (v1.Hash, error) {
	cfg := static.NewLayer([]byte("{}"), types.MediaType(emptyMediaType))
	layer := static.NewLayer(data, types.MediaType(mediaType))
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(t.repo, l, t.reg.writing(ctx)...); err != nil {
			return v1.Hash{}, t.reg.Error(err)
		}
	}
	cd, _ := cfg.Digest()
	ld, _ := layer.Digest()
	m := referrerManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  mediaType,
		Config:        v1.Descriptor{MediaType: emptyMediaType, Digest: cd, Size: 2},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(mediaType), Digest: ld, Size: int64(len(data))}},
		Subject:       &t.desc,
		Annotations:   annotations,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(t.repo.Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, t.reg.writing(ctx)...); err != nil {
		return v1.Hash{}, t.reg.Error(err)
	}
	return h, nil
}
