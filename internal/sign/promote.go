package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/image"
)

// Promotion records one promotion: which image, where to, and what the tag named before.
type Promotion struct {
	Time        time.Time `json:"time"`
	Source      string    `json:"source"` // HOST/REPO@sha256:…
	SourceTag   string    `json:"sourceTag,omitempty"`
	Destination string    `json:"destination"` // HOST/REPO:TAG
	Digest      v1.Hash   `json:"digest"`
	// Previous is the digest the destination tag named before, if it existed.
	Previous  string    `json:"previous,omitempty"`
	KeyID     string    `json:"keyId"`
	ScannedAt time.Time `json:"scannedAt"`
	FailOn    string    `json:"failOn"`
}

// PromoteOptions add the verdict requirements to Options.
type PromoteOptions struct {
	Options
	// Verdict is what the image's newest verdict attestation must show.
	Verdict VerdictPolicy
	// PredicateType is the attestation holding the verdict: verdict (default) or vuln.
	PredicateType string
}

// Promote points dst (a tag, or HOST/REPO:TAG) at the image src names, by digest, after
// checking its signature and its newest verdict attestation against v. It refuses, with
// a *VerifyError, an image that is unsigned, signed by another key, or whose verdict
// fails the policy. Across repositories the image, its classic signatures and
// attestations and its bundle referrers are copied along, so the promoted image
// verifies where it lands. Rollback is promoting an earlier digest.
func Promote(ctx context.Context, src, dst string, v *Verifier, opts PromoteOptions) (*Promotion, error) {
	if v == nil {
		return nil, errors.New("no verifier: a key is required")
	}
	pt := opts.PredicateType
	if pt == "" {
		pt = PredicateVerdict
	}
	pt, err := ParsePredicateType(pt)
	if err != nil {
		return nil, err
	}
	t, err := resolve(ctx, src, opts.Image, opts.Limits)
	if err != nil {
		return nil, err
	}
	sig, err := t.verify(ctx, v, opts.Options)
	if err != nil {
		return nil, err
	}
	checked, err := t.checkVerdict(ctx, v, pt, opts.Verdict, opts.Options)
	if err != nil {
		return nil, err
	}
	dt, err := destination(t, dst, opts.Image)
	if err != nil {
		return nil, err
	}
	p := &Promotion{Time: opts.now().UTC(), Source: t.ref(), SourceTag: t.tag, Destination: dt.tag.String(),
		Digest: t.digest, KeyID: sig.Signatures[0].KeyID, ScannedAt: checked.Verdict.ScannedAt, FailOn: checked.Verdict.Verdict.FailOn}
	if prev, err := remote.Head(dt.tag, dt.reg.reading(ctx)...); err == nil {
		p.Previous = prev.Digest.String()
	} else if !isNotFound(err) {
		return nil, dt.reg.Error(err)
	}
	if err := copyImage(ctx, t, dt); err != nil {
		return nil, err
	}
	now, err := remote.Head(dt.tag, dt.reg.reading(ctx)...)
	if err != nil {
		return nil, dt.reg.Error(err)
	}
	if now.Digest != t.digest {
		return nil, fmt.Errorf("%s names %s after promotion, not %s: someone else moved it meanwhile", dt.tag, now.Digest, t.digest)
	}
	return p, nil
}

type dest struct {
	reg *client
	tag name.Tag
}

// destination reads DST: a bare tag means the source's repository.
func destination(t *target, dst string, opts image.Options) (*dest, error) {
	if dst == "" {
		return nil, errors.New("no destination tag")
	}
	if !strings.ContainsAny(dst, "/:@") {
		if _, err := name.NewTag(t.repo.Name()+":"+dst, t.reg.NameOptions...); err != nil {
			return nil, fmt.Errorf("destination tag %q: %w", dst, err)
		}
		return &dest{reg: t.reg, tag: t.repo.Tag(dst)}, nil
	}
	reg, err := connect(dst, opts)
	if err != nil {
		return nil, err
	}
	tag, ok := reg.Ref.(name.Tag)
	if !ok || !strings.HasSuffix(strings.TrimPrefix(dst, "registry:"), ":"+tag.TagStr()) {
		return nil, fmt.Errorf("destination %q must name a tag (HOST/REPO:TAG, or just TAG)", dst)
	}
	return &dest{reg: reg, tag: tag}, nil
}

// copyImage makes dst name the source digest. In the same repository that is a tag
// update; across repositories the image and what signs it are copied first.
func copyImage(ctx context.Context, t *target, d *dest) error {
	desc, err := remote.Get(t.repo.Digest(t.digest.String()), t.reg.reading(ctx)...)
	if err != nil {
		return t.reg.Error(err)
	}
	if d.tag.Context() == t.repo {
		if err := remote.Tag(d.tag, desc, d.reg.writing(ctx)...); err != nil {
			return d.reg.Error(err)
		}
		return nil
	}
	repo := d.tag.Context()
	for _, suffix := range []string{"sig", "att"} {
		if err := copyRef(ctx, t, t.tagFor(suffix), d, repo.Tag(t.tagFor(suffix).TagStr())); err != nil {
			return err
		}
	}
	if err := copyRef(ctx, t, t.repo.Digest(t.digest.String()), d, d.tag); err != nil {
		return err
	}
	refs, err := t.referrers(ctx)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := copyRef(ctx, t, t.repo.Digest(r.Digest.String()), d, repo.Digest(r.Digest.String())); err != nil {
			return err
		}
	}
	return nil
}

// copyRef copies one manifest (image or index) and its blobs; a missing source is fine.
func copyRef(ctx context.Context, t *target, from name.Reference, d *dest, to name.Reference) error {
	desc, err := remote.Get(from, t.reg.reading(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return t.reg.Error(err)
	}
	opts := d.reg.writing(ctx)
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return t.reg.Error(err)
		}
		err = remote.WriteIndex(to, idx, opts...)
		return d.reg.Error(err)
	}
	img, err := desc.Image()
	if err != nil {
		return t.reg.Error(err)
	}
	return d.reg.Error(remote.Write(to, img, opts...))
}
