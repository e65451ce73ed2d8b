// Package image opens container images from any source charter supports and reads
// every layer exactly once: the foundation that `charter scan`, `charter sbom` and the
// image checks stand on.
//
// # Opening
//
// Open takes a reference in syft/grype's source schemes and returns an *Image whose
// config and layer list are known; no layer has been read yet.
//
//	registry:HOST/REPO[:TAG|@DIGEST]  a registry, over HTTPS unless the host is listed in
//	                                  Options.InsecureRegistries; credentials from
//	                                  ~/.docker/config.json and its credential helpers
//	                                  (Options.Keychain); 408/429/5xx retried with
//	                                  jittered exponential backoff (Options.Retry)
//	docker:NAME                       the Docker daemon at $DOCKER_HOST (default
//	                                  unix:///var/run/docker.sock), through the Engine
//	                                  API's image export (GET /images/{name}/get),
//	                                  spooled to a scratch file under the cache directory
//	podman:NAME                       Podman's Docker-compatible API socket
//	                                  ($CONTAINER_HOST, $XDG_RUNTIME_DIR/podman/podman.sock,
//	                                  /run/podman/podman.sock); without one, `podman save`
//	docker-archive:FILE[:TAG]         a `docker save` tar (legacy or OCI-style)
//	oci-dir:DIR[:TAG]                 an OCI image layout directory
//	oci-archive:FILE[:TAG]            an OCI image layout packed in a tar
//	dir:ROOTFS                        an unpacked root filesystem, as one layer, no config
//	NAME                              docker: if the daemon has it, else registry:
//
// A multi-platform index resolves to Options.Platform (default: linux on the host's
// architecture). Every error is an *Error whose one-line message names the reference
// (and layer) and says what to do; errors.Is tells the kind apart: ErrNotFound,
// ErrUnauthorized, ErrUnreachable, ErrNotImage, ErrInvalidRef, ErrCorrupt, ErrLimit,
// ErrAnalyzer. The CLI maps all of them to exit code 2.
//
// # Walking
//
// Image.Walk streams each layer blob once: its digest and its diffID are verified while
// it is read, gzip and zstd are recognised by their magic bytes, and the tar headers
// become the layer's index (Layer.Files, Whiteouts, Opaque, Anomalies). The Analyzers
// passed to Walk are served from the same pass: each says which entries it needs and
// how many bytes of their content (Analyzer.Need; PathAnalyzer covers paths and globs),
// and its Records are kept per layer. Content is read only for entries some analyzer
// wants, up to Limits.MaxContent, so memory stays bounded whatever the image's size.
//
// The returned *Index squashes the layers as an overlay filesystem would: Lookup and
// Files give the final filesystem, each File names the layer that added it, and each
// Layer names the history entry (created_by) that made it. Index.Hidden lists every
// file a later layer deleted (whiteout, opaque directory) or replaced: it is gone from
// the final view, yet anyone who pulls the image can still extract it.
//
// # Cache
//
// Each layer's index and each analyzer's records are cached under the layer's diffID
// (and the analyzer's ID, which carries its version) in $CHARTER_CACHE_DIR or the user
// cache directory + "/charter", written atomically; a cached layer is not even fetched.
// Options.NoCache bypasses the cache.
//
// # Hostile images
//
// Nothing from an image is ever written to disk except the cache's own files (named by
// digest) and, for docker: and podman:, the exported archive in the cache's tmp
// directory. Entry names that leave the root, links that point outside it, device
// nodes, duplicate entries and malformed whiteouts become Anomalies; oversized headers,
// bad digests, truncated or non-tar streams are ErrCorrupt; decompression bombs and
// runaway layers hit Limits (ErrLimit). All limits are fields of Limits.
//
// The package prints nothing: Options.Progress receives per-layer byte counts for a
// progress bar, and Options.Logger the rare diagnostic.
package image
