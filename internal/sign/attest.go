package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Attest signs an in-toto statement about the image ref names (by digest) with the
// predicate made from input (see PredicateTypes) and stores it in the layouts
// opts.Format asks for: a DSSE layer of sha256-<hex>.att, a bundle referrer, or both.
func Attest(ctx context.Context, ref string, key *PrivateKey, predicateType string, input []byte, opts Options) (*Signed, error) {
	pt, err := ParsePredicateType(predicateType)
	if err != nil {
		return nil, err
	}
	t, err := resolve(ctx, ref, opts.Image, opts.Limits)
	if err != nil {
		return nil, err
	}
	predicate, err := makePredicate(pt, input, t.digest, opts.now())
	if err != nil {
		return nil, err
	}
	st := newStatement(t.repo.Name(), t.digest, pt, predicate)
	out := &Signed{Ref: t.ref(), Digest: t.digest, Tag: t.tag, PredicateType: pt}
	if opts.Format.classic() {
		payload, err := marshalStatement(st)
		if err != nil {
			return nil, err
		}
		env, err := signEnvelope(key, InTotoPayloadType, payload)
		if err != nil {
			return nil, err
		}
		data, err := json.Marshal(env)
		if err != nil {
			return nil, err
		}
		l := classicLayer{data: data, mediaType: DSSEMediaType,
			annotations: map[string]string{SignatureAnnotation: "", "predicateType": pt}}
		if out.Classic, err = t.appendClassic(ctx, "att", l, key); err != nil {
			return nil, err
		}
	}
	if opts.Format.bundle() {
		h, err := t.pushBundle(ctx, key, st, opts.now())
		if err != nil {
			return nil, err
		}
		out.Bundle = t.repo.Name() + "@" + h.String()
	}
	return out, nil
}

// Attested is the outcome of an attestation check that found at least one.
type Attested struct {
	Ref          string        `json:"ref"`
	Digest       v1.Hash       `json:"digest"`
	Tag          string        `json:"tag,omitempty"`
	Attestations []Attestation `json:"attestations"`
}

// VerifyAttestations checks the image's attestations of predicateType (a URI or a short
// name) against v's keys: DSSE signature over the exact statement, the statement's
// subject digest, its predicate type. Attestations of other types are ignored; none of
// the asked type is a *VerifyError.
func VerifyAttestations(ctx context.Context, ref string, v *Verifier, predicateType string, opts Options) (*Attested, error) {
	if v == nil {
		return nil, errors.New("no verifier: a key is required")
	}
	pt, err := ParsePredicateType(predicateType)
	if err != nil {
		return nil, err
	}
	t, err := resolve(ctx, ref, opts.Image, opts.Limits)
	if err != nil {
		return nil, err
	}
	return t.verifyAttestations(ctx, v, pt, opts)
}

func (t *target) verifyAttestations(ctx context.Context, v *Verifier, pt string, opts Options) (*Attested, error) {
	out := &Attested{Ref: t.ref(), Digest: t.digest, Tag: t.tag}
	var reasons []string
	if opts.Format.classic() {
		found, why, err := t.verifyClassicAttestations(ctx, v, pt)
		if err != nil {
			return nil, err
		}
		out.Attestations = append(out.Attestations, found...)
		reasons = append(reasons, why...)
	}
	if opts.Format.bundle() {
		found, why, err := t.verifyBundles(ctx, v, pt)
		if err != nil {
			return nil, err
		}
		out.Attestations = append(out.Attestations, found...)
		reasons = append(reasons, why...)
	}
	if len(out.Attestations) == 0 {
		reasons = append(reasons, "no verified attestation of type "+pt+" (looked in "+t.placesFor(opts.Format, "att")+")")
		return nil, &VerifyError{Ref: t.ref(), Digest: t.digest, Tag: t.tag, Reasons: reasons}
	}
	return out, nil
}

func (t *target) verifyClassicAttestations(ctx context.Context, v *Verifier, pt string) ([]Attestation, []string, error) {
	tag := t.tagFor("att")
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
	var found []Attestation
	var reasons []string
	for i, d := range m.Layers {
		if i >= t.limits.MaxEntries {
			reasons = append(reasons, fmt.Sprintf("%s: only the first %d attestations were checked", tag.TagStr(), t.limits.MaxEntries))
			break
		}
		if ann, ok := d.Annotations["predicateType"]; ok && ann != pt {
			continue // the annotation is a hint; the signed statement decides below
		}
		where := fmt.Sprintf("%s layer %d", tag.TagStr(), i)
		a, err := t.checkClassicAttestation(ctx, v, d, pt)
		if err != nil {
			if isRegistryErr(err) {
				return nil, nil, err
			}
			if !errors.Is(err, errOtherPredicate) {
				reasons = append(reasons, where+": "+err.Error())
			}
			continue
		}
		a.Location = tag.TagStr()
		found = append(found, *a)
	}
	return found, reasons, nil
}

func (t *target) checkClassicAttestation(ctx context.Context, v *Verifier, d v1.Descriptor, pt string) (*Attestation, error) {
	if string(d.MediaType) != DSSEMediaType {
		return nil, fmt.Errorf("media type %q, want %q", d.MediaType, DSSEMediaType)
	}
	data, err := t.blob(ctx, d)
	if err != nil {
		return nil, err
	}
	e, payload, err := ParseEnvelope(data)
	if err != nil {
		return nil, err
	}
	return v.checkStatement(e, payload, t.digest, pt, "classic")
}

// Predicate types charter attests, and the short names that stand for them (cosign's
// names where cosign has one).
const (
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	PredicateSPDX      = "https://spdx.dev/Document"
	PredicateVuln      = "https://cosign.sigstore.dev/attestation/vuln/v1"
	PredicateCustom    = "https://cosign.sigstore.dev/attestation/v1"
	PredicateVerdict   = "https://github.com/charterhq/charter/attestation/verdict/v1"
)

var predicateNames = map[string]string{
	"cyclonedx": PredicateCycloneDX,
	"spdx":      PredicateSPDX,
	"spdxjson":  PredicateSPDX,
	"vuln":      PredicateVuln,
	"custom":    PredicateCustom,
	"verdict":   PredicateVerdict,
}

// PredicateTypes lists the short names --type accepts.
func PredicateTypes() []string {
	var names []string
	for n := range predicateNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParsePredicateType turns a short name into its URI; a URI passes as it is.
func ParsePredicateType(s string) (string, error) {
	if u, ok := predicateNames[strings.ToLower(s)]; ok {
		return u, nil
	}
	if strings.Contains(s, "://") && !strings.ContainsAny(s, " \t\n") {
		return s, nil
	}
	return "", fmt.Errorf("unknown predicate type %q (want a URI or one of %s)", s, strings.Join(PredicateTypes(), ", "))
}
