// Package profile turns an image and the runtime section of its charter file into a
// least-privilege runtime profile, and renders that profile for the runtimes people use:
// `docker run` flags, a compose service, Kubernetes manifests (Deployment and
// NetworkPolicy), an OCI runtime spec (config.json) for runc or crun, and a seccomp
// profile in Docker's JSON format.
//
// Build computes the profile from plain inputs (the image config, the image's
// /etc/passwd and /etc/group, charter.yaml's runtime section); FromImage reads those
// inputs from an opened image in one walk. Every default the profile applies is written
// down in Profile.Notes, so the output says what charter chose and why:
//
//   - the image's own non-root user, else 65532:65532 (the "nonroot" user of distroless);
//   - a read-only root filesystem, with tmpfs (noexec, nosuid, nodev) at each
//     runtime.writable path and image VOLUME, and at /tmp when runtime.writable is absent;
//   - every capability dropped except runtime.capabilities.add;
//   - no-new-privileges, Docker's default seccomp profile (optionally narrowed);
//   - memory, CPU and process limits (DefaultLimits when the charter sets none);
//   - no host namespaces, and no network at all when nothing may be reached.
package profile
