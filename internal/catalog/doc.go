// Package catalog finds the software packages in an image: the `packages` of
// charter's report and the content of `charter sbom`.
//
// # Catalogers
//
// One Cataloger per ecosystem, each in its own file, listed explicitly by Catalogers:
//
//	distro       /etc/os-release, /usr/lib/os-release (the distro qualifier of OS purls)
//	dpkg         /var/lib/dpkg/status, /var/lib/dpkg/status.d/* (distroless),
//	             /var/lib/dpkg/info/*.list and *.md5sums, /usr/share/doc/*/copyright
//	apk          /lib/apk/db/installed (files and Q1/Q2 checksums inline)
//	rpm          Packages (Berkeley DB), Packages.db (NDB), rpmdb.sqlite (SQLite) under
//	             /var/lib/rpm, /usr/lib/sysimage/rpm, /usr/share/rpm
//	go-binary    executables with Go build information (main module, dependencies and
//	             their replacements, the toolchain as "stdlib")
//	rust-audit   executables with a `cargo auditable` .dep-v0 section
//	python       *.dist-info/METADATA, *.egg-info/PKG-INFO, *.egg-info files
//	npm          package.json with a name and version, package-lock.json (v1–v3)
//	java         *.jar, *.war, *.ear… nested archives included: pom.properties, else
//	             MANIFEST.MF and the file name
//	ruby         .../specifications/*.gemspec (read as text, never evaluated)
//	php-composer .../vendor/composer/installed.json
//	dotnet-deps  *.deps.json ("type": "package" libraries)
//	unmanaged    node, python, busybox, openssl/libcrypto binaries and Java `release`
//	             files no OS package owns (Package.Unmanaged)
//
// Each declares the files it wants (Need) and reads their content (Parse) inside the
// image walk's single pass over each layer: Analyzers adapts them to image.Analyzer.
// What Parse returns is cached per layer under the cataloger's name and Version.
//
// # Building the result
//
// After the walk, Build reads the records from the image.Index and keeps the packages
// of files still visible in the final filesystem (a package database replaced by a
// later layer, or a dist-info deleted by one, no longer counts). For each package it
// fills in:
//
//   - Layer: the first layer of the unbroken run of layers whose copy of the same file
//     declared the package; ChangedLayer: the layer where it took its final version
//     (an upgrade); Meta["previousVersion"] the version before.
//   - Files and Digests from the package manager (dpkg's .list and .md5sums, apk's and
//     rpm's own records), Licenses from dpkg's copyright files.
//   - PURL with the distro's namespace and qualifiers
//     (pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12), and CPEs
//     where advisories key by CPE (the Go toolchain, Java archives without Maven
//     coordinates, unmanaged binaries).
//   - Base: the package came from the base image's layers. BaseLayers finds their
//     number from the config's history and the OCI base annotations; BaseFromImage
//     counts them exactly when the base image is at hand. Pass it in Options.
//
// Result.Report converts to the report model's []report.Package.
//
// # Integrity (IMG009)
//
// Packages of dpkg, apk and rpm carry the digests their manager recorded. Hasher is an
// image.Analyzer that hashes system files during the same walk; Verify compares, and
// reports files that were modified or are missing, and versions that changed in a layer
// that touched none of the package's files: an edited database.
//
// # Limits
//
// Binaries and archives are read whole, up to the walk's Limits.MaxContent (16 MiB by
// default). Go build information survives truncation (it is found by its magic);
// cargo auditable data, Java archives and rpm databases need the whole file, and a
// warning says when they did not get it. Callers that catalog should raise
// MaxContent (charter's commands use 256 MiB).
package catalog
