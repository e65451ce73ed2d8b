package sign

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/charterhq/charter/internal/image"
)

// Format picks the layouts a signature or attestation is written in.
type Format string

// Formats.
const (
	FormatClassic Format = "classic"
	FormatBundle  Format = "bundle"
	FormatBoth    Format = "both"
)

// ParseFormat reads --format.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatClassic, FormatBundle, FormatBoth:
		return f, nil
	case "":
		return FormatBoth, nil
	}
	return "", fmt.Errorf("unknown format %q (want classic, bundle or both)", s)
}

func (f Format) classic() bool { return f == FormatClassic || f == FormatBoth || f == "" }
func (f Format) bundle() bool  { return f == FormatBundle || f == FormatBoth || f == "" }

// Options tune Sign, Attest, Verify and Promote.
type Options struct {
	// Format is the layouts to write (Sign, Attest) or to accept (Verify: "both" accepts
	// either). Default both.
	Format Format
	// Annotations are added to a classic signature's payload (Sign) or required in it
	// (Verify). A bundle signature has no place for them; Verify with annotations
	// therefore accepts only classic signatures.
	Annotations map[string]string
	// Image carries registry access: credentials, plain-HTTP hosts, retries.
	Image image.Options
	// Limits bound what is read from the registry.
	Limits Limits
	// Now is the clock for attestation times. Default time.Now.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Signed says what was signed and where the signature went.
type Signed struct {
	// Ref is the image by digest: HOST/REPO@sha256:….
	Ref    string  `json:"ref"`
	Digest v1.Hash `json:"digest"`
	// Tag is the tag the image was named by, resolved before signing.
	Tag string `json:"tag,omitempty"`
	// Classic is the sha256-<hex>.sig (or .att) tag written, if any.
	Classic string `json:"classic,omitempty"`
	// Bundle is the referrer manifest written, HOST/REPO@sha256:…, if any.
	Bundle string `json:"bundle,omitempty"`
	// PredicateType is set for attestations.
	PredicateType string `json:"predicateType,omitempty"`
}

// Sign signs the image ref names, by digest, in the layouts opts.Format asks for.
func Sign(ctx context.Context, ref string, key *PrivateKey, opts Options) (*Signed, error) {
	t, err := resolve(ctx, ref, opts.Image, opts.Limits)
	if err != nil {
		return nil, err
	}
	out := &Signed{Ref: t.ref(), Digest: t.digest, Tag: t.tag}
	if opts.Format.classic() {
		payload, err := simpleSigningPayload(t.repo.Name(), t.digest, opts.Annotations)
		if err != nil {
			return nil, err
		}
		sig, err := key.signBytes(payload)
		if err != nil {
			return nil, err
		}
		l := classicLayer{data: payload, mediaType: SimpleSigningMediaType,
			annotations: map[string]string{SignatureAnnotation: b64.EncodeToString(sig)}}
		if out.Classic, err = t.appendClassic(ctx, "sig", l, key); err != nil {
			return nil, err
		}
	}
	if opts.Format.bundle() {
		st := newStatement("", t.digest, SignPredicateType, nil)
		h, err := t.pushBundle(ctx, key, st, opts.now())
		if err != nil {
			return nil, err
		}
		out.Bundle = t.repo.Name() + "@" + h.String()
	}
	return out, nil
}

// pushBundle signs a statement into a DSSE envelope, wraps it in a bundle and stores it
// as a referrer of the image.
func (t *target) pushBundle(ctx context.Context, key *PrivateKey, st Statement, now time.Time) (v1.Hash, error) {
	payload, err := marshalStatement(st)
	if err != nil {
		return v1.Hash{}, err
	}
	env, err := signEnvelope(key, InTotoPayloadType, payload)
	if err != nil {
		return v1.Hash{}, err
	}
	b, err := newBundle(key, env)
	if err != nil {
		return v1.Hash{}, err
	}
	return t.putReferrer(ctx, b, BundleMediaType, map[string]string{
		"org.opencontainers.image.created":  now.UTC().Format(time.RFC3339),
		"dev.sigstore.bundle.content":       "dsse-envelope",
		"dev.sigstore.bundle.predicateType": st.PredicateType,
	})
}

// classicLayer is one signature or attestation in a classic .sig/.att manifest.
type classicLayer struct {
	data        []byte
	mediaType   string
	annotations map[string]string
}

// appendClassic adds l to the image's sha256-<hex>.<suffix> manifest, creating it if
// needed. An earlier entry with the same payload signed by the same key is replaced, so
// signing twice does not pile up copies.
func (t *target) appendClassic(ctx context.Context, suffix string, l classicLayer, key *PrivateKey) (string, error) {
	tag := t.tagFor(suffix)
	old, _, err := t.manifest(ctx, tag)
	if err != nil {
		return "", err
	}
	self, err := NewVerifier(key.Public())
	if err != nil {
		return "", err
	}
	var adds []mutate.Addendum
	if old != nil {
		if len(old.Layers) >= t.limits.MaxEntries {
			return "", fmt.Errorf("%s already holds %d entries (limit %d)", tag, len(old.Layers), t.limits.MaxEntries)
		}
		for _, d := range old.Layers {
			data, err := t.blob(ctx, d)
			if err != nil {
				return "", fmt.Errorf("%s: %w", tag, err)
			}
			if bytes.Equal(data, l.data) && sameSigner(self, d, data) {
				continue
			}
			adds = append(adds, mutate.Addendum{Layer: static.NewLayer(data, d.MediaType), Annotations: d.Annotations, MediaType: d.MediaType})
		}
	}
	adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.data, types.MediaType(l.mediaType)),
		Annotations: l.annotations, MediaType: types.MediaType(l.mediaType)})
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, adds...)
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, img, t.reg.writing(ctx)...); err != nil {
		return "", t.reg.Error(err)
	}
	return tag.String(), nil
}

// sameSigner reports whether an existing classic entry is signed by the key in v.
func sameSigner(v *Verifier, d v1.Descriptor, data []byte) bool {
	if sig := d.Annotations[SignatureAnnotation]; sig != "" {
		raw, err := decodeB64(sig)
		if err != nil {
			return false
		}
		_, ok := v.verifyBytes(data, raw)
		return ok
	}
	e, payload, err := ParseEnvelope(data)
	if err != nil {
		return false
	}
	_, err = v.verifyEnvelope(e, payload)
	return err == nil
}
