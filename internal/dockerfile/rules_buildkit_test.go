package dockerfile

import "testing"

func TestRuleRedundantPlatform(t *testing.T) {
	runRuleCases(t, "DF170", []ruleCase{
		{name: "dollar", src: "FROM --platform=$TARGETPLATFORM alpine:3\n", want: 1, aliases: []string{"DL3065"}},
		{name: "braces", src: "FROM --platform=${TARGETPLATFORM} alpine:3 AS a\nFROM alpine:3\n", want: 1, msg: "${TARGETPLATFORM}"},
		{name: "build platform", src: "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM alpine:3\n", want: 0},
		{name: "fixed platform", src: "FROM --platform=linux/arm64 alpine:3\n", want: 0},
		{name: "none", src: "FROM alpine:3\n", want: 0},
	})
}

func TestRuleNumericUser(t *testing.T) {
	runRuleCases(t, "DF171", []ruleCase{
		{name: "name", src: "FROM debian:12\nUSER app\n", want: 1, msg: "USER app", aliases: []string{"DL3066"}},
		{name: "name and group", src: "FROM debian:12\nUSER app:app\n", want: 1},
		{name: "inherited from a stage", src: "FROM debian:12 AS base\nUSER app\nFROM base\nRUN true\n", want: 1},
		{name: "uid", src: "FROM debian:12\nUSER 10001\n", want: 0},
		{name: "uid and gid", src: "FROM debian:12\nUSER 10001:10001\n", want: 0},
		{name: "last USER counts", src: "FROM debian:12\nUSER root\nRUN apt-get update\nUSER 10001\n", want: 0},
		{name: "builder stage ignored", src: "FROM node:20 AS build\nUSER node\nFROM debian:12\nUSER 10001\n", want: 0},
		{name: "build arg", src: "FROM debian:12\nARG UID=10001\nUSER ${UID}\n", want: 0},
		{name: "windows", src: "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER ContainerUser\n", want: 0},
		{name: "no USER", src: "FROM debian:12\n", want: 0},
	})
}

func TestRuleWholeFilesystemCopy(t *testing.T) {
	runRuleCases(t, "DF172", []ruleCase{
		{name: "stage root", src: "FROM debian:12 AS build\nFROM scratch\nCOPY --from=build / /\n", want: 1, msg: "--from=build", aliases: []string{"DL3067"}},
		{name: "quoted", src: "FROM scratch\nCOPY --from=build \"/\" \"/\"\n", want: 1},
		{name: "json", src: "FROM scratch\nCOPY --from=busybox [\"/\", \"/\"]\n", want: 1},
		{name: "context root", src: "FROM scratch\nCOPY / /\n", want: 0},
		{name: "directory", src: "FROM scratch\nCOPY --from=build /app /\n", want: 0},
		{name: "into a subdirectory", src: "FROM scratch\nCOPY --from=build / /rootfs\n", want: 0},
	})
}

func TestRuleCacheMounts(t *testing.T) {
	runRuleCases(t, "DF173", []ruleCase{
		{name: "go build", src: "FROM golang:1.22\nRUN go build ./...\n", want: 1, msg: "`go build`", aliases: []string{"DL3070"}},
		{name: "go -C dir build", src: "FROM golang:1.22\nRUN go -C cmd/app build\n", want: 1},
		{name: "go with both caches", src: "FROM golang:1.22\nRUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go build ./...\n", want: 0},
		{name: "go version", src: "FROM golang:1.22\nRUN go version\n", want: 0},
		{name: "go through a bind mount only", src: "FROM golang:1.22\nRUN --mount=type=bind,target=/go/pkg/mod go build\n", want: 1},
		{name: "cargo toolchain", src: "FROM rust:1\nRUN cargo +nightly build --release\n", want: 1, aliases: []string{"DL3069"}},
		{name: "cargo with CARGO_HOME cache", src: "FROM rust:1\nRUN --mount=type=cache,target=/usr/local/cargo/registry cargo build\n", want: 0},
		{name: "cargo run is not a download", src: "FROM rust:1\nRUN cargo run -- install\n", want: 0},
		{name: "maven goals after clean", src: "FROM maven:3\nRUN mvn -B -f pom.xml clean package\n", want: 1, aliases: []string{"DL3071"}},
		{name: "maven wrapper", src: "FROM eclipse-temurin:21\nRUN ./mvnw dependency:go-offline\n", want: 1},
		{name: "maven cached", src: "FROM maven:3\nRUN --mount=type=cache,target=/root/.m2 mvn package\n", want: 0},
		{name: "gradle wrapper", src: "FROM eclipse-temurin:21\nRUN ./gradlew build\n", want: 1, aliases: []string{"DL3072"}},
		{name: "composer", src: "FROM php:8\nRUN composer install --no-dev\n", want: 1, aliases: []string{"DL3073"}},
		{name: "composer cache dir", src: "FROM php:8\nRUN --mount=type=cache,target=/tmp/composer-cache composer install\n", want: 0},
		{name: "dotnet", src: "FROM mcr.microsoft.com/dotnet/sdk:8.0\nRUN dotnet publish -c Release\n", want: 1, aliases: []string{"DL3074"}},
		{name: "pnpm", src: "FROM node:20\nRUN pnpm i --frozen-lockfile\n", want: 1, aliases: []string{"DL3075"}},
		{name: "mix", src: "FROM elixir:1.16\nRUN mix deps.get --only prod\n", want: 1, aliases: []string{"DL3076"}},
		{name: "bundler", src: "FROM ruby:3\nRUN bundle install\n", want: 1, aliases: []string{"DL3077"}},
		{name: "two tools two findings", src: "FROM x\nRUN go mod download && bundle install\n", want: 2},
		{name: "chain with set -eux", src: "FROM golang:1.22\nRUN set -eux; go mod download\n", want: 1},
		{name: "onbuild", src: "FROM golang:1.22\nONBUILD RUN go build ./...\n", want: 1},
		{name: "exec form", src: "FROM golang:1.22\nRUN [\"go\", \"build\", \"./...\"]\n", want: 1},
		{name: "tmpfs counts", src: "FROM ruby:3\nRUN --mount=type=tmpfs,target=/usr/local/bundle bundle install\n", want: 0},
	})
}

func TestRuleMetadataComplete(t *testing.T) {
	for _, group := range [][]check{shellChecks, labelChecks, buildkitChecks} {
		for _, c := range group {
			r := c.Rule
			if r.ID == "" || r.Title == "" || r.Description == "" || r.Remediation == "" || r.Category != "dockerfile" || r.Example == "" || c.run == nil {
				t.Errorf("%s: incomplete metadata", r.ID)
			}
			if len(r.Aliases) == 0 || len(r.References) == 0 || r.Severity == 0 {
				t.Errorf("%s: missing aliases, references or severity", r.ID)
			}
		}
	}
}
