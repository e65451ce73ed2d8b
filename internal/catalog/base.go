package catalog

import (
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Annotations that name an image's base (OCI image-spec, set by BuildKit and others).
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// How BaseLayers came to its answer.
const (
	BaseFromHistory = "history"    // the base image's closing CMD/ENTRYPOINT in the history
	BaseScratch     = "scratch"    // the annotations say the image has no base
	BaseUnknown     = "unknown"    // nothing to go on: pass the base image (BaseFromImage)
	BaseFromDiffIDs = "base-image" // the layers shared with a given base image
)

var baseCloser = regexp.MustCompile(`(^|\s|#\(nop\)\s*)(CMD|ENTRYPOINT)\s*\[?`)

// BaseLayers says how many leading layers of an image come from its base image, from
// the config's history: a base image ends with CMD or ENTRYPOINT, which adds no layer,
// so the last such entry with layers after it closes the base. Images built FROM an
// image built FROM another count both as base. annotations are the manifest's; a
// base.name of "scratch" (or none of them with no history mark) gives 0.
//
// Pass the result as Options.BaseLayers.
func BaseLayers(cfg *v1.ConfigFile, annotations map[string]string) (n int, how string) {
	if name, ok := annotations[AnnotationBaseName]; ok && (name == "scratch" || name == "") {
		return 0, BaseScratch
	}
	if cfg == nil {
		return 0, BaseUnknown
	}
	total := 0
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			total++
		}
	}
	layers, base := 0, -1
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			layers++
			continue
		}
		// The image's own closing CMD has no layer after it and does not count.
		if layers < total && baseCloser.MatchString(h.CreatedBy) {
			base = layers
		}
	}
	if base < 0 {
		return 0, BaseUnknown
	}
	return base, BaseFromHistory
}

// BaseFromImage counts the leading layers an image shares with its base image (their
// diffIDs in order): the exact answer when the base is known (`--base IMAGE`).
func BaseFromImage(image, base []v1.Hash) int {
	n := 0
	for n < len(image) && n < len(base) && image[n] == base[n] {
		n++
	}
	if n < len(base) {
		return 0 // not built on this base
	}
	return n
}
