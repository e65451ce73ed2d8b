// Package pack builds minimal, reproducible OCI images for Go main packages without a
// container daemon: a static binary (CGO_ENABLED=0, -trimpath, stripped, no build ID) on
// a base layer that holds only what a Go program needs from an operating system.
//
// # The image
//
// Two layers, both made here as sorted tar streams with fixed owners, modes and
// modification times, compressed with gzip at a fixed level and an empty gzip header:
//
//	layer 0  /etc/passwd, /etc/group    root, nobody and nonroot (65532)
//	         /etc/nsswitch.conf         "hosts: files dns", as the Go resolver expects
//	         /etc/ssl/certs/ca-certificates.crt   CA bundle (the build machine's, or a file)
//	         /tmp (1777), /home/nonroot (0700, owned by 65532)
//	layer 1  /app/NAME                  the program (0755)
//
// No shell, no package manager. The config runs the program as 65532:65532 with
// SSL_CERT_FILE, HOME and PATH set, carries the OCI annotations (source, revision,
// version, created) as labels and as manifest annotations, and one history entry per
// layer.
//
// # Reproducibility
//
// Every timestamp is the build's epoch: SOURCE_DATE_EPOCH, else the commit time of the
// git checkout the package lives in, else 0. Nothing depends on the working directory
// (go build -trimpath), the user, the umask or the clock, so two builds of the same
// source with the same Go toolchain give the same digest. The compressed bytes depend on
// compress/flate, which may change between Go releases: pin the toolchain to reproduce
// an old digest.
//
// # Attached documents
//
// Each platform image gets a CycloneDX SBOM (the catalog package's Go binary cataloger
// run over the built image) and a SLSA v1 provenance statement (in-toto), stored as OCI
// 1.1 referrers whose subject is the image: in the OCI layout's index.json, or pushed
// next to the image. Signed attestations are the caller's step (internal/sign), since
// they need a key and a registry.
package pack
