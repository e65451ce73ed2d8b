package dockerfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

// pkgCase is one Dockerfile and what a package rule must report on it.
type pkgCase struct {
	name string
	src  string
	want int // findings of the rule
	// alias, when set, must be carried by every finding; noAlias must be carried by none.
	alias, noAlias string
	msg            string // substring of the first finding's message
	line           int    // line of the first finding, when set
}

func pkgFindings(t *testing.T, src, id string) []report.Finding {
	t.Helper()
	return hitsFor(t, id, src, nil)
}

func runPkgCases(t *testing.T, id string, cases []pkgCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := pkgFindings(t, tc.src, id)
			if len(got) != tc.want {
				for _, g := range got {
					t.Logf("  %d: %s %v", g.Location.Line, g.Message, g.Aliases)
				}
				t.Fatalf("%s: got %d findings, want %d", id, len(got), tc.want)
			}
			for _, g := range got {
				if tc.alias != "" && !slices.Contains(g.Aliases, tc.alias) {
					t.Errorf("finding %q lacks alias %s (has %v)", g.Message, tc.alias, g.Aliases)
				}
				if tc.noAlias != "" && slices.Contains(g.Aliases, tc.noAlias) {
					t.Errorf("finding %q carries alias %s, which its peer would not report", g.Message, tc.noAlias)
				}
			}
			if len(got) > 0 && tc.msg != "" && !strings.Contains(got[0].Message, tc.msg) {
				t.Errorf("message %q does not mention %q", got[0].Message, tc.msg)
			}
			if len(got) > 0 && tc.line != 0 && got[0].Location.Line != tc.line {
				t.Errorf("line %d, want %d", got[0].Location.Line, tc.line)
			}
		})
	}
}

func TestPackageRemoteScript(t *testing.T) {
	runPkgCases(t, "DF007", []pkgCase{
		{name: "curl pipe sh", src: "FROM debian\nRUN curl -fsSL https://get.docker.com | sh\n", want: 1, msg: "get.docker.com"},
		{name: "wget to stdout pipe bash -s", src: "FROM debian\nRUN wget -qO- https://x.example/install.sh | bash -s -- --yes\n", want: 1, msg: "wget"},
		{name: "curl pipe sudo sh", src: "FROM debian\nRUN curl -sL https://deb.nodesource.com/setup_20.x | sudo -E bash -\n", want: 1},
		{name: "process substitution", src: "FROM debian\nRUN bash <(curl -s https://x.example/i.sh)\n", want: 1},
		{name: "sh -c command substitution", src: "FROM debian\nRUN sh -c \"$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)\"\n", want: 1, msg: "raw.githubusercontent.com"},
		{name: "eval command substitution", src: "FROM debian\nRUN eval \"$(wget -qO- https://x.example/env)\"\n", want: 1},
		{name: "python from stdin", src: "FROM python:3\nRUN curl -sSL https://install.python-poetry.org | python3 -\n", want: 1},
		{name: "perl from stdin", src: "FROM debian\nRUN curl -L https://cpanmin.us | perl - App::cpanminus\n", want: 1},
		{name: "through tee", src: "FROM debian\nRUN curl -s https://x.example/a | tee /tmp/a | sh\n", want: 1},
		{name: "set -eux chain", src: "FROM debian\nRUN set -eux; \\\n    apt-get update; \\\n    curl -fsSL https://x.example/s | sh\n", want: 1},
		{name: "heredoc", src: "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\nset -e\ncurl -fsSL https://x.example/s | bash\nEOF\n", want: 1},
		{name: "exec form sh -c", src: "FROM debian\nRUN [\"/bin/sh\", \"-c\", \"curl -fsSL https://x.example/s | sh\"]\n", want: 1},
		{name: "onbuild", src: "FROM debian\nONBUILD RUN curl https://x.example/s | sh\n", want: 1},
		{name: "downloaded then run", src: "FROM debian\nRUN curl -fsSLo get.sh https://get.docker.com && sh get.sh\n", want: 1, msg: "get.sh"},
		{name: "wget file then ./run", src: "FROM debian\nRUN wget https://x.example/install.sh && chmod +x install.sh && ./install.sh\n", want: 1},
		{name: "downloaded and verified", src: "FROM debian\nRUN curl -fsSLo get.sh https://get.docker.com \\\n && echo \"abc  get.sh\" | sha256sum -c - \\\n && sh get.sh\n", want: 0},
		{name: "signature verified", src: "FROM debian\nRUN curl -o i.sh https://x.example/i.sh && curl -o i.sh.asc https://x.example/i.sh.asc && gpg --verify i.sh.asc i.sh && bash i.sh\n", want: 0},
		{name: "curl to file not run", src: "FROM debian\nRUN curl -fsSLo /usr/share/keyrings/k.gpg https://x.example/k.gpg\n", want: 0},
		{name: "curl pipe tar", src: "FROM debian\nRUN curl -fsSL https://x.example/a.tgz | tar -xz -C /opt\n", want: 0},
		{name: "curl pipe gpg", src: "FROM debian\nRUN curl -fsSL https://x.example/key | gpg --dearmor -o /k.gpg\n", want: 0},
		{name: "wget without stdout pipe sh", src: "FROM debian\nRUN wget https://x.example/a | sh\n", want: 0},
		{name: "interpreter reads a file", src: "FROM debian\nRUN curl -s https://x.example/data | python3 /opt/parse.py\n", want: 0},
		{name: "bash -c consumes its argument", src: "FROM debian\nRUN curl -s https://x.example/data | bash -c 'cat > /tmp/x'\n", want: 0},
		{name: "url credentials never printed", src: "FROM debian\nRUN curl -s https://user:hunter2@x.example/s?token=abc | sh\n", want: 1, msg: "from x.example"},
	})
	for _, fd := range pkgFindings(t, "FROM debian\nRUN curl -s https://user:hunter2@x.example/s?token=abc | sh\n", "DF007") {
		if strings.Contains(fd.Message, "hunter2") || strings.Contains(fd.Message, "token") {
			t.Errorf("message leaks the URL's credentials: %s", fd.Message)
		}
	}
}

func TestPackageBuildTools(t *testing.T) {
	runPkgCases(t, "DF008", []pkgCase{
		{name: "gcc and make", src: "FROM debian:12\nRUN apt-get update && apt-get install -y gcc make libssl-dev\n", want: 1, msg: "gcc, make, libssl-dev"},
		{name: "builder stage only", src: "FROM debian:12 AS build\nRUN apt-get install -y gcc\nFROM debian:12\nCOPY --from=build /app /app\n", want: 0},
		{name: "final built on builder", src: "FROM debian:12 AS build\nRUN apt-get install -y build-essential\nFROM build\nCMD [\"/app\"]\n", want: 1, line: 2},
		{name: "purged later in the stage", src: "FROM debian:12\nRUN apt-get install -y gcc\nRUN make\nRUN apt-get purge -y gcc\n", want: 0},
		{name: "apk virtual deleted", src: "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev \\\n && pip install x==1 \\\n && apk del .build-deps\n", want: 0},
		{name: "apk virtual kept", src: "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev\n", want: 1, msg: "gcc, musl-dev"},
		{name: "apt-mark auto idiom", src: "FROM debian:12\nRUN set -eux; savedAptMark=\"$(apt-mark showmanual)\"; \\\n apt-get install -y --no-install-recommends gcc libc6-dev make; \\\n make; \\\n apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; \\\n apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false\n", want: 0},
		{name: "dnf devel", src: "FROM fedora:40\nRUN dnf install -y python3-devel-3.12.1 gcc-c++ && dnf clean all\n", want: 1, msg: "python3-devel, gcc-c++"},
		{name: "packages from ENV", src: "FROM debian:12\nENV BUILD_DEPS=\"gcc make\"\nRUN apt-get install -y $BUILD_DEPS\n", want: 1, msg: "gcc, make"},
		{name: "packages from ENV removed by variable", src: "FROM debian:12\nENV BUILD_DEPS=\"gcc make\"\nRUN apt-get install -y $BUILD_DEPS && make && apt-get purge -y $BUILD_DEPS\n", want: 0},
		{name: "apt-mark auto through xargs", src: "FROM debian:12\nRUN savedAptMark=\"$(apt-mark showmanual)\"; apt-get install -y dpkg-dev; \\\n apt-mark showmanual | xargs apt-mark auto > /dev/null; apt-mark manual $savedAptMark; \\\n apt-get purge -y --auto-remove\n", want: 0},
		{name: "buildpack-deps scm variant has no compiler", src: "FROM buildpack-deps:bookworm-scm\nRUN echo\n", want: 0},
		{name: "buildpack-deps is a toolchain", src: "FROM buildpack-deps:bookworm\nRUN echo\n", want: 1},
		{name: "git is not a build tool", src: "FROM debian:12\nRUN apt-get install -y git curl\n", want: 0},
		{name: "toolchain base image", src: "FROM golang:1.23\nCOPY . .\nRUN go build -o /app\nCMD [\"/app\"]\n", want: 1, line: 1, msg: "golang:1.23"},
		{name: "toolchain base in build stage", src: "FROM golang:1.23 AS b\nRUN go build -o /app\nFROM gcr.io/distroless/static\nCOPY --from=b /app /app\n", want: 0},
		{name: "onbuild install in final", src: "FROM debian:12\nONBUILD RUN apt-get install -y g++\n", want: 1},
		{name: "heredoc", src: "# syntax=docker/dockerfile:1\nFROM alpine:3.20\nRUN <<EOF\napk add --no-cache build-base\nEOF\n", want: 1},
	})
}

func TestPackageCaches(t *testing.T) {
	runPkgCases(t, "DF009", []pkgCase{
		{name: "apt lists left", src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=1\n", want: 1, alias: "DL3009", msg: "/var/lib/apt/lists"},
		{name: "apt lists removed", src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=1 && rm -rf /var/lib/apt/lists/*\n", want: 0},
		{name: "apt-get dist-clean", src: "FROM debian:13\nRUN apt-get update; apt-get install -y --no-install-recommends gnupg=2; apt-get dist-clean\n", want: 0},
		{name: "apt-get install -s changes nothing", src: "FROM debian:12\nRUN apt-get install -s curl > /dev/null\n", want: 0},
		{name: "apt lists removed by parent dir", src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=1 && rm -rf /var/lib/apt/*\n", want: 0},
		{name: "rm of something else is not cleanup", src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=1 && rm -rf /tmp/*\n", want: 1, noAlias: "DL3009"},
		{name: "removed in a later RUN still counts", src: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=1\nRUN rm -rf /var/lib/apt/lists/*\n", want: 1, line: 2},
		{name: "set -eux chain", src: "FROM debian:12\nRUN set -eux; \\\n  apt-get update; \\\n  apt-get install -y --no-install-recommends curl=1; \\\n  rm -rf /var/lib/apt/lists/*\n", want: 0},
		{name: "builder stage not in image", src: "FROM debian:12 AS b\nRUN apt-get update && apt-get install -y curl\nFROM scratch\nCOPY --from=b /x /x\n", want: 0},
		{name: "cache mount", src: "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update && apt-get install -y --no-install-recommends curl=1\n", want: 0},
		{name: "tmpfs mount", src: "FROM debian:12\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends curl=1\n", want: 0},
		{name: "recommends", src: "FROM debian:12\nRUN apt-get install -y curl=1\n", want: 1, alias: "DL3015", msg: "--no-install-recommends"},
		{name: "recommends off in config", src: "FROM debian:12\nRUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/no-rec\nRUN apt-get install -y curl=1\n", want: 0},
		{name: "apt recommends has no hadolint alias", src: "FROM debian:12\nRUN apt install -y curl=1\n", want: 1, noAlias: "DL3015"},
		{name: "apk without --no-cache", src: "FROM alpine:3.20\nRUN apk add curl=8.9.1-r0\n", want: 1, alias: "DL3019"},
		{name: "apk with --no-cache", src: "FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r0\n", want: 0},
		{name: "apk cache removed", src: "FROM alpine:3.20\nRUN apk add --update curl=8.9.1-r0 && rm -rf /var/cache/apk/*\n", want: 0},
		{name: "apk update leaves the index", src: "FROM alpine:3.20\nRUN apk update && apk add --no-cache curl=8.9.1-r0\n", want: 1, noAlias: "DL3019"},
		{name: "yum", src: "FROM centos:7\nRUN yum install -y httpd-2.4 \n", want: 1, alias: "DL3032"},
		{name: "yum clean all", src: "FROM centos:7\nRUN yum install -y httpd-2.4 && yum clean all\n", want: 0},
		{name: "yum clean metadata is not enough", src: "FROM centos:7\nRUN yum install -y httpd-2.4 && yum clean metadata\n", want: 1, noAlias: "DL3032"},
		{name: "dnf cleaned by microdnf does not count", src: "FROM fedora:40\nRUN dnf install -y x-1 && microdnf clean all\n", want: 1, alias: "DS-0019"},
		{name: "dnf cache mount", src: "FROM fedora:40\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y x-1\n", want: 0},
		{name: "zypper", src: "FROM opensuse/leap:15\nRUN zypper -n install curl=8\n", want: 1, alias: "DL3036"},
		{name: "zypper clean", src: "FROM opensuse/leap:15\nRUN zypper -n install curl=8 && zypper clean -a\n", want: 0},
		{name: "pip", src: "FROM python:3.12\nRUN pip install requests==2.32.3\n", want: 1, alias: "DL3042", msg: "--no-cache-dir"},
		{name: "python -m pip", src: "FROM python:3.12\nRUN python3 -m pip install requests==2.32.3\n", want: 1},
		{name: "pip --no-cache-dir", src: "FROM python:3.12\nRUN pip install --no-cache-dir requests==2.32.3\n", want: 0},
		{name: "pip ENV in parent stage", src: "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install requests==2.32.3\n", want: 0},
		{name: "pip ARG default", src: "FROM python:3.12\nARG PIP_NO_CACHE_DIR=true\nRUN pip install requests==2.32.3\n", want: 0},
		{name: "pip export in sh -c", src: "FROM python:3.12\nRUN sh -c 'export PIP_NO_CACHE_DIR=1 && pip install requests==2.32.3'\n", want: 0},
		{name: "pip cache mount", src: "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install requests==2.32.3\n", want: 0},
		{name: "pip cache purged", src: "FROM python:3.12\nRUN pip install requests==2.32.3 && pip cache purge\n", want: 0},
		{name: "pip in builder stage", src: "FROM python:3.12 AS b\nRUN pip install --prefix=/install requests==2.32.3\nFROM python:3.12-slim\nCOPY --from=b /install /usr/local\n", want: 0},
		{name: "pipx is not pip", src: "FROM python:3.12\nRUN pipx install black==24.1.0\n", want: 0},
		{name: "yarn install", src: "FROM node:20\nRUN yarn install --frozen-lockfile\n", want: 1, alias: "DL3060"},
		{name: "bare yarn has no hadolint alias", src: "FROM node:20\nRUN yarn --frozen-lockfile\n", want: 1, noAlias: "DL3060"},
		{name: "yarn --version is not an install", src: "FROM node:20\nRUN yarn --version\n", want: 0},
		{name: "yarn cache clean", src: "FROM node:20\nRUN yarn install && yarn cache clean\n", want: 0},
		{name: "yarn cache mount", src: "FROM node:20\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n", want: 0},
		{name: "docker-clean removed, archives kept", src: "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y --no-install-recommends curl=1\n", want: 1, msg: "/var/cache/apt"},
		{name: "docker-clean removed, both mounted", src: "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl=1\n", want: 0},
		{name: "onbuild in builder stage", src: "FROM debian:12 AS b\nONBUILD RUN apt-get update && apt-get install -y --no-install-recommends curl=1\nFROM scratch\n", want: 1},
		{name: "exec form", src: "FROM alpine:3.20\nRUN [\"apk\", \"add\", \"curl=8.9.1-r0\"]\n", want: 1},
		{name: "heredoc", src: "# syntax=docker/dockerfile:1\nFROM python:3.12\nRUN <<EOF\npip install requests==2.32.3\nEOF\n", want: 1},
	})
}

func TestPackagePinning(t *testing.T) {
	runPkgCases(t, "DF010", []pkgCase{
		{name: "apt-get", src: "FROM debian:12\nRUN apt-get install -y curl git=1:2.39.5-0+deb12u1\n", want: 1, alias: "DL3008", msg: "curl"},
		{name: "apt-get pinned", src: "FROM debian:12\nRUN apt-get install -y curl=7.88.1-10\n", want: 0},
		{name: "apt-get target release value is not a package", src: "FROM debian:12\nRUN apt-get install -y -t bookworm-backports curl=7\n", want: 0},
		{name: "apt has no hadolint alias", src: "FROM debian:12\nRUN apt install -y curl\n", want: 1, noAlias: "DL3008"},
		{name: "packages from ARG resolved", src: "FROM debian:12\nARG PKGS=\"curl=7 wget\"\nRUN apt-get install -y $PKGS\n", want: 1, msg: "wget"},
		{name: "packages from ARG all pinned", src: "FROM debian:12\nARG PKGS=\"curl=7 wget=1\"\nRUN apt-get install -y ${PKGS}\n", want: 0},
		{name: "unknown variable left alone", src: "FROM debian:12\nRUN apt-get install -y $PKGS\n", want: 0},
		{name: "command substitution left alone", src: "FROM debian:12\nRUN apt-get install -y $(cat /pkgs.txt)\n", want: 0},
		{name: "sudo wrapper", src: "FROM debian:12\nRUN sudo apt-get install -y curl\n", want: 1},
		{name: "apk", src: "FROM alpine:3.20\nRUN apk add --no-cache curl\n", want: 1, alias: "DL3018"},
		{name: "apk fuzzy pin", src: "FROM alpine:3.20\nRUN apk add --no-cache curl~8.9\n", want: 0},
		{name: "yum name-version", src: "FROM centos:7\nRUN yum install -y httpd-2.4.6 && yum clean all\n", want: 0},
		{name: "yum -devel is not a version", src: "FROM centos:7\nRUN yum install -y python3-devel && yum clean all\n", want: 1, noAlias: "DL3033", msg: "python3-devel"},
		{name: "dnf module", src: "FROM fedora:40\nRUN dnf module install -y nodejs && dnf clean all\n", want: 1, alias: "DL3041"},
		{name: "zypper", src: "FROM opensuse/leap:15\nRUN zypper -n in curl && zypper clean\n", want: 1, alias: "DL3037"},
		{name: "zypper pattern", src: "FROM opensuse/leap:15\nRUN zypper -n in -t pattern devel_basis && zypper clean\n", want: 0},
		{name: "pip", src: "FROM python:3.12\nRUN pip install --no-cache-dir requests flask==3.0.0\n", want: 1, alias: "DL3013", msg: "requests"},
		{name: "pip requirements plus explicit", src: "FROM python:3.12\nRUN pip install --no-cache-dir -r requirements.txt gunicorn\n", want: 1, noAlias: "DL3013"},
		{name: "pip --no-index from wheels", src: "FROM python:3.12\nRUN pip install --no-cache-dir --no-index --find-links /wheels app\n", want: 0},
		{name: "pip git without ref, user in URL", src: "FROM python:3.12\nRUN pip install --no-cache-dir git+ssh://git@github.com/o/r.git\n", want: 1},
		{name: "npm", src: "FROM node:20\nRUN npm install -g express\n", want: 1, alias: "DL3016"},
		{name: "npm latest tag floats", src: "FROM node:20\nRUN npm install -g npm@latest\n", want: 1, noAlias: "DL3016"},
		{name: "npm ci", src: "FROM node:20\nRUN npm ci\n", want: 0},
		{name: "yarn add", src: "FROM node:20\nRUN yarn global add typescript && yarn cache clean\n", want: 1},
		{name: "gem", src: "FROM ruby:3\nRUN gem install bundler\n", want: 1, alias: "DL3028"},
		{name: "gem install dir value", src: "FROM ruby:3\nRUN gem install -i /opt/gems bundler:2.5.0\n", want: 0},
		{name: "go install latest", src: "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@latest\n", want: 1, alias: "DL3062"},
		{name: "go install branch floats", src: "FROM golang:1.23\nRUN go install example.com/x@master\n", want: 1, noAlias: "DL3062"},
		{name: "go build flags", src: "FROM golang:1.23\nRUN go install -ldflags '-s -w' ./cmd/...\n", want: 0},
		{name: "go main-module package", src: "FROM golang:1.23\nRUN go install myapp/cmd/server\n", want: 0},
		{name: "cargo", src: "FROM rust:1\nRUN cargo install ripgrep\n", want: 1},
		{name: "cargo pinned", src: "FROM rust:1\nRUN cargo install ripgrep --version 14.1.0 --locked\n", want: 0},
		{name: "onbuild", src: "FROM debian:12\nONBUILD RUN apt-get install -y curl\n", want: 1},
		{name: "builder stages count", src: "FROM debian:12 AS b\nRUN apt-get install -y curl\nFROM scratch\n", want: 1},
		{name: "sh -c body", src: "FROM debian:12\nRUN sh -c 'apt-get install -y curl'\n", want: 1},
		{name: "continuation lines", src: "FROM debian:12\nRUN apt-get install -y \\\n    curl=7 \\\n    wget\n", want: 1, msg: "wget", line: 2},
	})
}

func TestPackageSSH(t *testing.T) {
	runPkgCases(t, "DF012", []pkgCase{
		{name: "expose 22", src: "FROM debian:12\nEXPOSE 22\n", want: 1, alias: "DS-0004"},
		{name: "expose 22/tcp among others", src: "FROM debian:12\nEXPOSE 80 22/tcp\n", want: 1, alias: "DS-0004"},
		{name: "range containing 22", src: "FROM debian:12\nEXPOSE 20-25\n", want: 1, noAlias: "DS-0004"},
		{name: "ARG expanded", src: "FROM debian:12\nARG SSH_PORT=22\nEXPOSE $SSH_PORT\n", want: 1, noAlias: "DS-0004"},
		{name: "ENV from parent stage", src: "FROM debian:12 AS base\nENV P=22\nFROM base\nEXPOSE ${P}/tcp\n", want: 1},
		{name: "2222 is not 22", src: "FROM debian:12\nEXPOSE 2222 220\n", want: 0},
		{name: "builder stage", src: "FROM debian:12 AS b\nEXPOSE 22\nFROM scratch\n", want: 0},
		{name: "openssh-server installed", src: "FROM debian:12\nRUN apt-get install -y --no-install-recommends openssh-server=1\n", want: 1, msg: "openssh-server", noAlias: "DS-0004"},
		{name: "alpine openssh", src: "FROM alpine:3.20\nRUN apk add --no-cache openssh\n", want: 1},
		{name: "openssh-client is fine", src: "FROM debian:12\nRUN apt-get install -y openssh-client\n", want: 0},
		{name: "sshd started", src: "FROM debian:12\nCMD [\"/usr/sbin/sshd\", \"-D\"]\n", want: 1},
		{name: "onbuild expose", src: "FROM debian:12 AS b\nONBUILD EXPOSE 22\nFROM scratch\n", want: 1},
	})
}

func TestPackagePromptsUpgradesApt(t *testing.T) {
	runPkgCases(t, "DF100", []pkgCase{
		{name: "apt-get install", src: "FROM debian:12\nRUN apt-get install curl\n", want: 1, alias: "DL3014"},
		{name: "apt-get simulate", src: "FROM debian:12\nRUN apt-get install -s curl\n", want: 0},
		{name: "apt-get -f install", src: "FROM debian:12\nRUN dpkg -i x.deb || apt-get -f install\n", want: 1},
		{name: "apt-get -qq", src: "FROM debian:12\nRUN apt-get -qq install curl\n", want: 0},
		{name: "apt-get upgrade has no hadolint alias", src: "FROM debian:12\nRUN apt-get upgrade\n", want: 1, noAlias: "DL3014"},
		{name: "yes piped in", src: "FROM debian:12\nRUN yes | apt-get install curl\n", want: 0},
		{name: "assume-yes in config", src: "FROM debian:12\nRUN echo 'APT::Get::Assume-Yes \"true\";' > /etc/apt/apt.conf.d/90yes\nRUN apt-get install curl\n", want: 0},
		{name: "yum", src: "FROM centos:7\nRUN yum install httpd\n", want: 1, alias: "DL3030"},
		{name: "dnf", src: "FROM fedora:40\nRUN dnf install httpd\n", want: 1, alias: "DL3038"},
		{name: "zypper global -n", src: "FROM opensuse/leap:15\nRUN zypper -n install curl\n", want: 0},
		{name: "zypper", src: "FROM opensuse/leap:15\nRUN zypper install curl\n", want: 1, alias: "DL3034"},
		{name: "apk never prompts", src: "FROM alpine:3.20\nRUN apk add curl\n", want: 0},
	})
	runPkgCases(t, "DF101", []pkgCase{
		{name: "apt-get dist-upgrade", src: "FROM debian:12\nRUN apt-get update && apt-get dist-upgrade -y\n", want: 1, alias: "DL3005"},
		{name: "apt-get upgrade is fine", src: "FROM debian:12\nRUN apt-get update && apt-get upgrade -y\n", want: 0},
		{name: "zypper dup", src: "FROM opensuse/leap:15\nRUN zypper -n dup\n", want: 1, alias: "DL3035"},
		{name: "apt full-upgrade", src: "FROM debian:12\nRUN apt full-upgrade -y\n", want: 1, noAlias: "DL3005"},
	})
	runPkgCases(t, "DF102", []pkgCase{
		{name: "apt install", src: "FROM debian:12\nRUN apt update && apt install -y curl\n", want: 1, alias: "DL3027"},
		{name: "apt-get", src: "FROM debian:12\nRUN apt-get update\n", want: 0},
		{name: "apt-cache", src: "FROM debian:12\nRUN apt-cache policy curl\n", want: 0},
	})
}

func TestPackageRuleMetadata(t *testing.T) {
	seen := map[string]string{}
	for _, c := range packageChecks {
		r := c.Rule
		if r.ID == "" || r.Title == "" || r.Remediation == "" || r.Category != "dockerfile" || r.Example == "" || c.run == nil || r.Severity == 0 {
			t.Errorf("%s: incomplete metadata", r.ID)
		}
		if strings.Count(r.Description, ". ") < 1 || len(r.References) == 0 {
			t.Errorf("%s: description needs at least two sentences and references", r.ID)
		}
		for _, a := range r.Aliases {
			if prev, dup := seen[a]; dup {
				t.Errorf("alias %s used by %s and %s", a, prev, r.ID)
			}
			seen[a] = r.ID
		}
	}
}

func TestPackageHelpers(t *testing.T) {
	for spec, want := range map[string]bool{"22": true, "22/tcp": true, "20-25/udp": true, "2222": false, "x": false, "23-30": false} {
		if got := portSpecHas(spec, 22); got != want {
			t.Errorf("portSpecHas(%q) = %v", spec, got)
		}
	}
	if got := substitutions("a$(curl -s $(echo u))b<(wget x)`fetch y`"); len(got) != 3 || got[0] != "curl -s $(echo u)" {
		t.Errorf("substitutions = %q", got)
	}
	for name, want := range map[string]bool{"pip": true, "pip3": true, "pip3.12": true, "pipx": false, "pipenv": false} {
		if isPipName(name) != want {
			t.Errorf("isPipName(%q) != %v", name, want)
		}
	}
}
