package sbom

import (
	"github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/report"
)

// FromCatalog makes the inventory of a catalogued image: the packages as the report has
// them, plus their owned files and digests, the distro, and the layers with the first
// baseLayers marked as the base image's (catalog.BaseLayers tells how many).
func FromCatalog(res *catalog.Result, img Image, tool report.Tool, baseLayers int) *Inventory {
	inv := &Inventory{Tool: tool, Image: img}
	if d := res.Distro; d != nil {
		inv.Distro = &Distro{ID: d.ID, VersionID: d.VersionID, Codename: d.Codename, Name: d.Name}
	}
	for i, l := range res.Layers {
		inv.Layers = append(inv.Layers, Layer{DiffID: l.DiffID, CreatedBy: l.Instruction, Base: i < baseLayers})
	}
	for i, rp := range res.Report() {
		locs := rp.Locations[:0:0]
		for _, l := range rp.Locations {
			if l != "" {
				locs = append(locs, l)
			}
		}
		rp.Locations = locs
		p := Package{Package: rp}
		if i < len(res.Packages) {
			p.Files, p.Digests = res.Packages[i].Files, res.Packages[i].Digests
		}
		inv.Packages = append(inv.Packages, p)
	}
	return inv
}
