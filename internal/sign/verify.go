package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/image"
)

// ErrNotVerified is the kind of every verification that ran and said no.
var ErrNotVerified = errors.New("not verified")

// VerifyError is a verification that ran and said no, with a reason for each signature
// or attestation looked at (or one saying there were none).
type VerifyError struct {
	Ref     string
	Digest  v1.Hash
	Tag     string
	Reasons []string
}

func (e *VerifyError) Error() string {
	what := e.Ref
	if e.Tag != "" {
		what += " (tag " + e.Tag + ")"
	}
	return fmt.Sprintf("%s: not verified: %s", what, strings.Join(e.Reasons, "; "))
}

// Is makes errors.Is(err, ErrNotVerified) true.
func (e *VerifyError) Is(target error) bool { return target == ErrNotVerified }

// Signature is one signature that verified.
type Signature struct {
	Layout      string            `json:"layout"` // classic or bundle
	KeyID       string            `json:"keyId"`
	Location    string            `json:"location"` // the tag or referrer it was found at
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Verified is the outcome of a verification that passed.
type Verified struct {
	Ref        string      `json:"ref"`
	Digest     v1.Hash     `json:"digest"`
	Tag        string      `json:"tag,omitempty"`
	Signatures []Signature `json:"signatures"`
}

// Verify checks the image ref names against v's keys, offline: a signature by one of
// them over the exact payload, bound to the image's digest, with opts.Annotations. A
// tag is resolved to its digest once, first. The error is a *VerifyError when the
// check ran and failed.
func Verify(ctx context.Context, ref string, v *Verifier, opts Options) (*Verified, error) {
	if v == nil {
		return nil, errors.New("no verifier: a key is required")
	}
	t, err := resolve(ctx, ref, opts.Image, opts.Limits)
	if err != nil {
		return nil, err
	}
	return t.verify(ctx, v, opts)
}

func (t *target) verify(ctx context.Context, v *Verifier, opts Options) (*Verified, error) {
	out := &Verified{Ref: t.ref(), Digest: t.digest, Tag: t.tag}
	var reasons []string
	if opts.Format.classic() {
		sigs, why, err := t.verifyClassic(ctx, v, opts.Annotations)
		if err != nil {
			return nil, err
		}
		out.Signatures = append(out.Signatures, sigs...)
		reasons = append(reasons, why...)
	}
	if opts.Format.bundle() && len(opts.Annotations) == 0 {
		found, why, err := t.verifyBundles(ctx, v, SignPredicateType)
		if err != nil {
			return nil, err
		}
		for _, a := range found {
			out.Signatures = append(out.Signatures, a.Signature)
		}
		reasons = append(reasons, why...)
	}
	if len(out.Signatures) == 0 {
		if len(reasons) == 0 {
			reasons = []string{"no signatures found (" + t.lookedAt(opts.Format, "sig") + ")"}
		}
		return nil, &VerifyError{Ref: t.ref(), Digest: t.digest, Tag: t.tag, Reasons: reasons}
	}
	return out, nil
}

// lookedAt names the places a verification looked, for a "none found" message.
func (t *target) lookedAt(f Format, suffix string) string {
	var w []string
	if f.classic() {
		w = append(w, "no "+t.tagFor(suffix).TagStr()+" tag")
	}
	if f.bundle() {
		w = append(w, "no bundle referrers")
	}
	return strings.Join(w, ", ")
}

// placesFor names where attestations or signatures are looked for.
func (t *target) placesFor(f Format, suffix string) string {
	var w []string
	if f.classic() {
		w = append(w, "the "+t.tagFor(suffix).TagStr()+" tag")
	}
	if f.bundle() {
		w = append(w, "the bundle referrers")
	}
	return strings.Join(w, " and ")
}

// verifyClassic checks every simple-signing layer of the sha256-<hex>.sig manifest.
func (t *target) verifyClassic(ctx context.Context, v *Verifier, want map[string]string) ([]Signature, []string, error) {
	tag := t.tagFor("sig")
	m, _, err := t.manifest(ctx, tag)
	if err != nil {
		if isRegistryErr(err) {
			return nil, nil, err
		}
		return nil, []string{tag.TagStr() + ": " + err.Error()}, nil
	}
	if m == nil {
		return nil, nil, nil
	}
	var sigs []Signature
	var reasons []string
	for i, d := range m.Layers {
		if i >= t.limits.MaxEntries {
			reasons = append(reasons, fmt.Sprintf("%s: only the first %d signatures were checked", tag.TagStr(), t.limits.MaxEntries))
			break
		}
		where := fmt.Sprintf("%s layer %d", tag.TagStr(), i)
		s, err := t.checkClassicLayer(ctx, v, d, want)
		if err != nil {
			if isRegistryErr(err) {
				return nil, nil, err
			}
			reasons = append(reasons, where+": "+err.Error())
			continue
		}
		s.Location = tag.TagStr()
		sigs = append(sigs, *s)
	}
	if len(m.Layers) == 0 {
		reasons = append(reasons, tag.TagStr()+": no signature layers")
	}
	return sigs, reasons, nil
}

func (t *target) checkClassicLayer(ctx context.Context, v *Verifier, d v1.Descriptor, want map[string]string) (*Signature, error) {
	if string(d.MediaType) != SimpleSigningMediaType {
		return nil, fmt.Errorf("media type %q, want %q", d.MediaType, SimpleSigningMediaType)
	}
	sigB64, ok := d.Annotations[SignatureAnnotation]
	if !ok || sigB64 == "" {
		return nil, fmt.Errorf("no %s annotation", SignatureAnnotation)
	}
	sig, err := decodeB64(sigB64)
	if err != nil {
		return nil, fmt.Errorf("%s annotation: %w", SignatureAnnotation, err)
	}
	payload, err := t.blob(ctx, d)
	if err != nil {
		return nil, err
	}
	id, ok := v.verifyBytes(payload, sig)
	if !ok {
		return nil, errBadSignature
	}
	ann, err := checkSimpleSigning(payload, t.digest, want)
	if err != nil {
		return nil, err
	}
	return &Signature{Layout: "classic", KeyID: id, Annotations: ann}, nil
}

// Attestation is one attestation that verified.
type Attestation struct {
	Signature
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
}

// verifyBundles checks every bundle referrer of the image whose statement has the given
// predicate type ("" for any but signatures).
func (t *target) verifyBundles(ctx context.Context, v *Verifier, predicateType string) ([]Attestation, []string, error) {
	refs, err := t.referrers(ctx)
	if err != nil {
		return nil, nil, err
	}
	var found []Attestation
	var reasons []string
	n := 0
	for _, d := range refs {
		if !maybeBundle(d.ArtifactType) {
			continue // an SBOM or another tool's artifact, not a bundle
		}
		if pt := d.Annotations["dev.sigstore.bundle.predicateType"]; pt != "" && predicateType != "" && pt != predicateType {
			continue // the annotation is only a hint; the statement inside decides
		}
		if n++; n > t.limits.MaxEntries {
			reasons = append(reasons, fmt.Sprintf("only the first %d bundles were checked", t.limits.MaxEntries))
			break
		}
		where := "bundle " + t.repo.Name() + "@" + d.Digest.String()
		a, err := t.checkBundle(ctx, v, d, predicateType)
		if err != nil {
			if isRegistryErr(err) {
				return nil, nil, err
			}
			if !errors.Is(err, errOtherPredicate) {
				reasons = append(reasons, where+": "+err.Error())
			}
			continue
		}
		a.Location = where
		found = append(found, *a)
	}
	return found, reasons, nil
}

var errOtherPredicate = errors.New("another predicate type")

// maybeBundle says whether a referrer with this artifact type may hold a bundle. Some
// registries report the config media type as the artifact type, so the empty config
// types pass too; the manifest's layers decide.
func maybeBundle(artifactType string) bool {
	switch artifactType {
	case "", emptyMediaType, "application/vnd.oci.image.config.v1+json":
		return true
	}
	return slices.Contains(bundleMediaTypes, artifactType)
}

func (t *target) checkBundle(ctx context.Context, v *Verifier, d v1.Descriptor, predicateType string) (*Attestation, error) {
	m, _, err := t.manifest(ctx, t.repo.Digest(d.Digest.String()))
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("referrer manifest is missing")
	}
	if m.Subject == nil || m.Subject.Digest != t.digest {
		return nil, errors.New("referrer manifest's subject is not this image")
	}
	var layer *v1.Descriptor
	for i := range m.Layers {
		if slices.Contains(bundleMediaTypes, string(m.Layers[i].MediaType)) {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		return nil, errOtherPredicate // another tool's referrer
	}
	data, err := t.blob(ctx, *layer)
	if err != nil {
		return nil, err
	}
	b, payload, err := ParseBundle(data)
	if err != nil {
		return nil, err
	}
	return v.checkStatement(b.DSSEEnvelope, payload, t.digest, predicateType, "bundle")
}

// checkStatement verifies a DSSE envelope and the in-toto statement inside: signature,
// subject digest, predicate type.
func (v *Verifier) checkStatement(e *Envelope, payload []byte, digest v1.Hash, predicateType, layout string) (*Attestation, error) {
	id, err := v.verifyEnvelope(e, payload)
	if err != nil {
		return nil, err
	}
	st, err := parseStatement(e.PayloadType, payload)
	if err != nil {
		return nil, err
	}
	switch {
	case predicateType == "" && st.PredicateType == SignPredicateType:
		return nil, errOtherPredicate
	case predicateType != "" && st.PredicateType != predicateType:
		return nil, errOtherPredicate
	}
	if err := st.about(digest); err != nil {
		return nil, err
	}
	return &Attestation{Signature: Signature{Layout: layout, KeyID: id}, PredicateType: st.PredicateType, Predicate: st.Predicate}, nil
}

// isRegistryErr tells a failure to talk to the registry (could not check) from bad
// content (checked: no).
func isRegistryErr(err error) bool {
	var ie *image.Error
	return errors.As(err, &ie)
}

// VerifyPayload checks one classic signature already fetched (by an admission
// controller's cache, say): sig over the exact payload by one of v's keys, the payload
// bound to digest, with the wanted annotations. It returns the signing key's ID.
func (v *Verifier) VerifyPayload(payload, sig []byte, digest v1.Hash, want map[string]string) (string, error) {
	id, ok := v.verifyBytes(payload, sig)
	if !ok {
		return "", errBadSignature
	}
	if _, err := checkSimpleSigning(payload, digest, want); err != nil {
		return "", err
	}
	return id, nil
}

// VerifyBundle checks one bundle already fetched: its DSSE signature by one of v's keys
// and its statement about digest with the given predicate type (SignPredicateType for a
// signature). It returns the verified attestation.
func (v *Verifier) VerifyBundle(data []byte, digest v1.Hash, predicateType string) (*Attestation, error) {
	b, payload, err := ParseBundle(data)
	if err != nil {
		return nil, err
	}
	a, err := v.checkStatement(b.DSSEEnvelope, payload, digest, predicateType, "bundle")
	if errors.Is(err, errOtherPredicate) {
		return nil, fmt.Errorf("bundle's predicate type is not %s", predicateType)
	}
	return a, err
}
