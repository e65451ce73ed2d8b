package sbom

import (
	"crypto/sha1" //nolint:gosec // RFC 4122 name-based UUIDs (version 5) are defined with SHA-1; an identifier, not a security boundary
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	packageurl "github.com/package-url/packageurl-go"
)

// digestOf hashes parts (NUL-separated) into a short, stable hex identifier.
func digestOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// identity is what tells two packages apart in one inventory.
func identity(p *Package) []string {
	layer := p.Layer
	if p.LayerIndex != nil {
		layer += "#" + strconv.Itoa(*p.LayerIndex)
	}
	return append([]string{p.Ecosystem, p.Name, p.Version, p.PURL, p.Arch, layer}, p.Locations...)
}

// charterNamespace is the UUID namespace of charter's name-based (version 5) UUIDs:
// itself the version-5 UUID of "github.com/charterhq/charter" in the URL namespace.
var charterNamespace = func() [16]byte {
	url := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	return uuid5(url, "https://github.com/charterhq/charter")
}()

// uuid5 is an RFC 4122 name-based UUID: the same name gives the same UUID, which is
// what makes serial numbers and SPDX namespaces reproducible.
func uuid5(ns [16]byte, nameStr string) [16]byte {
	h := sha1.New() //nolint:gosec // see the import
	h.Write(ns[:])
	h.Write([]byte(nameStr))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// docUUID names one document: the same inventory, format and time give the same UUID.
func docUUID(inv *Inventory, f Format, created string) string {
	parts := []string{f.String(), created, inv.Tool.Name, inv.Tool.Version, inv.Image.Ref, inv.Image.Digest, inv.Image.ID}
	for _, l := range inv.Layers {
		parts = append(parts, l.DiffID)
	}
	pkgs := sorted(inv.Packages)
	for i := range pkgs {
		parts = append(parts, identity(&pkgs[i])...)
	}
	return uuidString(uuid5(charterNamespace, digestOf(parts...)))
}

// uniqueIDs hands out identifiers that never repeat within one document: a wanted ID
// that is already taken gets "-2", "-3", … appended.
type uniqueIDs map[string]int

func (u uniqueIDs) take(id string) string {
	n := u[id]
	u[id] = n + 1
	if n == 0 {
		return id
	}
	for {
		n++
		cand := id + "-" + strconv.Itoa(n)
		if u[cand] == 0 {
			u[cand] = 1
			return cand
		}
	}
}

// spdxIDChars keeps what an SPDX identifier may hold (letters, digits, '.', '-').
func spdxIDChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 64 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// imageRefSchemes are the source schemes whose rest is a registry reference;
// fileSchemes name files and directories, which have no registry identity.
var (
	imageRefSchemes = []string{"registry:", "docker:", "podman:"}
	fileSchemes     = []string{"docker-archive:", "oci-dir:", "oci-archive:", "dir:", "sbom:", "file:"}
)

// ociPURL is the image's package URL (pkg:oci/NAME@DIGEST?repository_url=…&tag=…), or
// "" when the reference is not a registry reference or there is no digest.
func ociPURL(ref, digest string) string {
	if digest == "" {
		return ""
	}
	for _, s := range fileSchemes {
		if strings.HasPrefix(ref, s) {
			return ""
		}
	}
	for _, s := range imageRefSchemes {
		ref = strings.TrimPrefix(ref, s)
	}
	if strings.Contains(ref, ":/") || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") {
		return ""
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return ""
	}
	repo := r.Context()
	last := repo.RepositoryStr()
	if i := strings.LastIndex(last, "/"); i >= 0 {
		last = last[i+1:]
	}
	q := packageurl.Qualifiers{{Key: "repository_url", Value: repo.Name()}}
	if t, ok := r.(name.Tag); ok {
		q = append(q, packageurl.Qualifier{Key: "tag", Value: t.TagStr()})
	}
	return packageurl.NewPackageURL(packageurl.TypeOCI, "", strings.ToLower(last), digest, q, "").ToString()
}
