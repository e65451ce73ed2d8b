// Package inventory records which images hold which packages, and where those images
// run, so that the question "which of our images contain package X, or are affected by
// advisory Y" is one indexed lookup instead of a rescan of the fleet.
//
// A Store is SQLite (a file, the default) or PostgreSQL (shared by a team); both keep
// the same schema and answer the same queries with the same results. Packages are kept
// once per distinct (ecosystem, name, version, purl, source) as components, and each
// image links to its components with the layer that brought them, so four million
// package rows cost a few integers each and a lookup by name touches only the
// components of that name.
//
// The admission webhook records what runs where with Store.RecordDeployment: each
// admitted image digest with its cluster, namespace and workload.
package inventory

import (
	"context"
	"errors"
	"time"
)

// Image is one image (or SBOM) to record, with its packages.
type Image struct {
	// Digest is the manifest digest ("sha256:…"). An image is recorded once per digest;
	// an SBOM that names no digest is recorded once per Reference.
	Digest string `json:"digest,omitempty"`
	// Reference is the reference the image was added by ("registry.example.com/api:3",
	// "sbom:api.cdx.json"); adding the same digest again updates it.
	Reference string `json:"reference"`
	// Index is the digest of the image index (multi-platform image) the reference named,
	// when the image was picked from one: places recorded under the index's digest (what
	// a pod spec pins) are the image's places too.
	Index string `json:"index,omitempty"`
	// Created is the image's creation time from its config; zero when unknown.
	Created time.Time `json:"created,omitzero"`
	// Added is when the image was first recorded (set by Add when zero).
	Added time.Time `json:"added,omitzero"`
	// Distro is the operating system the image's os-release names ("debian-12").
	Distro string `json:"distro,omitempty"`
	// Layers are the image's layer diffIDs, bottom first.
	Layers []string `json:"layers,omitempty"`
	// Packages are the image's packages.
	Packages []Package `json:"packages,omitempty"`
}

// Package is one package of one image.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	PURL      string `json:"purl,omitempty"`
	// SourceName and SourceVersion name the source package a distro binary package
	// was built from (Debian advisories are filed under it).
	SourceName    string `json:"sourceName,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// LayerIndex is the layer that brought the package, -1 when unknown.
	LayerIndex int `json:"layerIndex"`
	// Path is where the package was found (its first location).
	Path string `json:"path,omitempty"`
}

// Deployment is one place an image runs.
type Deployment struct {
	Digest    string `json:"digest"`
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace"`
	Workload  string `json:"workload"`
	// Containers are the workload's containers that run the image, as of the newest
	// sighting that named them (sorted; empty when no sighting did).
	Containers []string `json:"containers,omitempty"`
	// Index is the image index (multi-platform image) the workload names, when Digest is
	// one of its platform images and was recorded through it.
	Index     string    `json:"index,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// Summary describes one recorded image without its packages.
type Summary struct {
	ID        int64  `json:"-"`
	Digest    string `json:"digest,omitempty"`
	Reference string `json:"reference"`
	// Index is the image index the image was added through, if any.
	Index    string    `json:"index,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	Added    time.Time `json:"added"`
	Distro   string    `json:"distro,omitempty"`
	Packages int       `json:"packages"`
	// Deployments are where the image runs, as recorded.
	Deployments []Deployment `json:"deployments,omitempty"`
}

// Lookup selects packages by identity, before any version filtering. Ecosystem is a
// package-URL type ("maven", "deb"); empty means every ecosystem. Name is compared with
// the package's name and its source package's name after folding (see NameKey); the
// caller filters the candidates exactly.
type Lookup struct {
	Ecosystem string
	Name      string
}

// Candidate is a distinct package (a component) a Lookup found.
type Candidate struct {
	ID            int64
	Ecosystem     string
	Name          string
	Version       string
	PURL          string
	SourceName    string
	SourceVersion string
}

// Hit is one package of one image that a search kept.
type Hit struct {
	Image     Summary
	Package   Package
	Candidate Candidate
	// Layer is the diffID of the layer that brought the package, "" when unknown.
	Layer string
}

// Store is an inventory database.
type Store interface {
	// Add records an image and its packages in one transaction. It reports whether
	// the image was new; an image already recorded (by digest) keeps its packages and
	// only has its reference updated (an SBOM's "sbom:FILE" never replaces an image
	// reference).
	Add(ctx context.Context, img *Image) (added bool, err error)
	// AddAll is Add for many images in one transaction: what bulk adds use, since one
	// commit for many images writes each touched index page once.
	AddAll(ctx context.Context, imgs []*Image) (added []bool, err error)
	// RecordDeployment records that the image with d.Digest runs in d.Cluster,
	// d.Namespace, d.Workload at d.LastSeen (now when zero). The image need not be in
	// the inventory yet. It is what the admission webhook calls for each admitted pod.
	RecordDeployment(ctx context.Context, d Deployment) error
	// RecordDeployments is RecordDeployment for many places in one transaction: what the
	// webhook's writer uses to keep up with a burst of new places.
	RecordDeployments(ctx context.Context, ds []Deployment) error
	// Candidates returns the distinct packages matching any of the lookups.
	Candidates(ctx context.Context, lookups []Lookup) ([]Candidate, error)
	// Hits returns every image package that is one of the given candidates, with the
	// image, its layer and its deployments, ordered by image reference and digest.
	Hits(ctx context.Context, cands []Candidate) ([]Hit, error)
	// Images lists the recorded images, newest first.
	Images(ctx context.Context) ([]Summary, error)
	// ImagesAndPlaces is Images and Deployments from one read of the places: what a
	// listing that also shows the blind spots (Unrecorded) needs.
	ImagesAndPlaces(ctx context.Context) ([]Summary, []Deployment, error)
	// Deployments lists every recorded place, whether or not its image is in the
	// inventory, ordered by cluster, namespace, workload and digest.
	Deployments(ctx context.Context) ([]Deployment, error)
	// PruneDeployments forgets the places last seen before t, and returns how many.
	PruneDeployments(ctx context.Context, before time.Time) (int, error)
	// Remove deletes the images whose digest or reference is ref, and their links;
	// it returns how many it removed.
	Remove(ctx context.Context, ref string) (int, error)
	// Close releases the database.
	Close() error
}

// ErrSchemaTooNew is returned by Open when the database was migrated by a newer charter.
var ErrSchemaTooNew = errors.New("inventory schema is newer than this charter understands")

// Unrecorded returns the places that run an image the inventory cannot answer for: a
// digest that is neither among imgs nor the index one of them was added through, unless
// it is an image index whose platform image for that place is (the webhook records an
// index with its platform images, and the inventory holds platform images). Places recorded for a platform image through an
// index are represented by the index's place.
func Unrecorded(imgs []Summary, deps []Deployment) []Deployment {
	held := map[string]bool{}
	for _, im := range imgs {
		if im.Digest != "" {
			held[im.Digest] = true
		}
		if im.Index != "" {
			held[im.Index] = true
		}
	}
	type at struct{ digest, cluster, namespace, workload string }
	covered := map[at]bool{}
	for _, d := range deps {
		if d.Index != "" && held[d.Digest] {
			covered[at{d.Index, d.Cluster, d.Namespace, d.Workload}] = true
		}
	}
	var out []Deployment
	for _, d := range deps {
		if d.Index != "" || held[d.Digest] || covered[at{d.Digest, d.Cluster, d.Namespace, d.Workload}] {
			continue
		}
		out = append(out, d)
	}
	return out
}
