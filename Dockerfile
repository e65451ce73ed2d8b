# syntax=docker/dockerfile:1.7
# charter's own image, held to charter's own contract (charter.yaml beside this file):
# digest-pinned bases, the toolchain only in the build stage, a static binary on
# distroless as the non-root user 65532. Release binaries come from scripts/release.sh;
# `charter pack ./cmd/charter` builds the same program into an image without a daemon.
FROM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY job ./job
COPY examples ./examples
# The same stamp as scripts/release.sh: the version, the commit and the commit's date
# (docker build --build-arg VERSION=… --build-arg COMMIT=$(git rev-parse HEAD)
# --build-arg DATE=$(git log -1 --format=%cI)); empty ones are left out of `charter version`.
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -buildid= -X github.com/charterhq/charter/internal/cli.Version=${VERSION} -X github.com/charterhq/charter/internal/cli.Commit=${COMMIT} -X github.com/charterhq/charter/internal/cli.Date=${DATE}" \
      -o /out/charter ./cmd/charter

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /out/charter /usr/local/bin/charter
USER 65532:65532
# A command-line tool, not a service: nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/charter"]
