package sbom

// charter's property namespace. CycloneDX carries these as component properties; SPDX
// as package annotations whose comment reads "NAME: VALUE". The names are part of the
// contract (docs/sbom.md): consumers parse them.
const (
	// On a package.
	propEcosystem     = "charter:ecosystem"          // deb, npm, … (the report's ecosystem)
	propArch          = "charter:arch"               // amd64
	propSourceName    = "charter:source:name"        // the source package
	propSourceVersion = "charter:source:version"     //
	propLocation      = "charter:location"           // the file that declares the package; repeated
	propCPE           = "charter:cpe"                // CPEs after the first (CycloneDX has one cpe field); repeated
	propLayerDiffID   = "charter:layer:diffID"       // the layer that brought the package
	propLayerIndex    = "charter:layer:index"        // its index, bottom layer 0
	propInstruction   = "charter:layer:instruction"  // its history entry (created_by)
	propBase          = "charter:layer:base"         // "true" when that layer is the base image's
	propChangedIndex  = "charter:layer:changedIndex" // the layer that last changed the package, when another
	propUnmanaged     = "charter:unmanaged"          // "true": no package manager installed it

	// On the image (CycloneDX metadata component, SPDX described package).
	propImageRef     = "charter:image:ref"         // the reference as given
	propImageID      = "charter:image:id"          // the config digest
	propImageLayer   = "charter:image:layer:"      // + "N:diffID", "N:createdBy", "N:base"
	propDistroCodeNm = "charter:distro:codename"   // on the operating-system component
	propDistroName   = "charter:distro:prettyName" //
)

// Syft's properties (CycloneDX) that charter reads.
const (
	syftCPE          = "syft:cpe23"
	syftLocationPfx  = "syft:location:" // + "N:path", "N:layerID"
	syftPackageType  = "syft:package:type"
	syftSource       = "syft:metadata:source"
	syftSourceVer    = "syft:metadata:sourceVersion"
	syftDistroID     = "syft:distro:id"
	syftDistroVer    = "syft:distro:versionID"
	syftDistroCode   = "syft:distro:versionCodename"
	syftDistroPretty = "syft:distro:prettyName"
)

// Trivy's properties (CycloneDX) and annotation keys (SPDX, "KEY: VALUE") that charter
// reads.
const (
	trivyPfx         = "aquasecurity:trivy:"
	trivyLayerDiffID = "LayerDiffID"
	trivyPkgType     = "PkgType"
	trivySrcName     = "SrcName"
	trivySrcVersion  = "SrcVersion"
	trivySrcRelease  = "SrcRelease"
	trivySrcEpoch    = "SrcEpoch"
	trivyFilePath    = "FilePath"
	trivyDiffID      = "DiffID" // on the image: one per layer, in order
	trivyImageID     = "ImageID"
	trivyRepoDigest  = "RepoDigest"
	trivyClass       = "Class" // on the aggregate components Trivy adds per target ("lang-pkgs")
)
