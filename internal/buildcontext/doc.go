// Package buildcontext is charter's build-context preflight: for a context directory and
// its Dockerfile it works out what `docker build` would send to the builder, what would
// land in the final image, and which secrets ride along (rules CTX001–CTX003).
//
// The three steps mirror BuildKit's own:
//
//   - Load walks the context the way BuildKit's file sender does: `.dockerignore` (or
//     `<Dockerfile>.dockerignore`) with moby/patternmatcher's semantics, last match wins,
//     excluded directories descended only when an exception could re-include something
//     inside them. Symbolic links are recorded as links and never followed; special files
//     are recorded and never opened.
//   - Resolve replays every COPY and ADD of every stage against the sent files, as
//     BuildKit's copy does (globs, directory contents, --exclude, --parents, symlinks in
//     sources resolved inside the context), and follows `COPY --from=<stage>` and
//     `FROM <stage>` so that a file copied into a build stage and from there into the final
//     stage is known to land.
//   - Check classifies and scans the sent files (each at most once, within the read limits
//     of Options) and reports secrets copied into the image (CTX001), secrets sent but not
//     copied (CTX002) and a `.git` directory sent (CTX003).
//
// Nothing here builds anything or talks to a daemon; what cannot be known statically
// (build arguments without defaults, files produced by RUN, the base image's WORKDIR) is
// reported as a warning rather than guessed.
package buildcontext
