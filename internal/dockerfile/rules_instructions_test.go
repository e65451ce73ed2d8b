package dockerfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// findingsOf lints src and returns the findings of one rule.
func findingsOf(t *testing.T, src string, cfg *Config, id string) []report.Finding {
	t.Helper()
	return hitsFor(t, id, src, cfg)
}

func boolPtr(b bool) *bool { return &b }

type instrCase struct {
	name string
	rule string
	src  string
	cfg  *Config
	// want is the number of findings; aliases, when set, must be those of the first one;
	// line, when set, is the first finding's line; msg must appear in its message.
	want    int
	aliases []string
	line    int
	msg     string
}

func runInstrCases(t *testing.T, cases []instrCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			got := findingsOf(t, tc.src, tc.cfg, tc.rule)
			if len(got) != tc.want {
				t.Fatalf("%d findings, want %d: %+v", len(got), tc.want, got)
			}
			if tc.want == 0 {
				return
			}
			first := got[0]
			if tc.aliases != nil && !slices.Equal(first.Aliases, tc.aliases) {
				t.Errorf("aliases = %v, want %v", first.Aliases, tc.aliases)
			}
			if tc.line != 0 && first.Location.Line != tc.line {
				t.Errorf("line = %d, want %d", first.Location.Line, tc.line)
			}
			if !strings.Contains(first.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", first.Message, tc.msg)
			}
		})
	}
}

func TestInstructionRootUser(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "no USER", rule: "DF001", src: "FROM debian:12\nRUN true\n", want: 1,
			aliases: []string{"DS-0002", "CIS-DI-0001", "DL3063"}, line: 1, msg: "sets no USER"},
		{name: "scratch without USER", rule: "DF001", src: "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n", want: 1, msg: "scratch"},
		{name: "scratch artifact image", rule: "DF001", src: "FROM golang:1 AS b\nFROM scratch\nCOPY --from=b /out /\n", want: 0},
		{name: "nanoserver", rule: "DF001", src: "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCMD [\"cmd\"]\n", want: 0},
		{name: "USER root", rule: "DF001", src: "FROM debian:12\nUSER root\n", want: 1,
			aliases: []string{"DL3002", "DS-0002", "CIS-DI-0001"}, line: 2},
		{name: "USER 0:0", rule: "DF001", src: "FROM debian:12\nUSER 0:0\n", want: 1},
		{name: "USER root:staff", rule: "DF001", src: "FROM debian:12\nUSER root:staff\n", want: 1},
		{name: "non-root", rule: "DF001", src: "FROM debian:12\nUSER 10001\n", want: 0},
		{name: "back to non-root", rule: "DF001", src: "FROM debian:12\nUSER root\nRUN apt-get update\nUSER app\n", want: 0},
		{name: "variable user", rule: "DF001", src: "FROM debian:12\nARG UID=1000\nUSER $UID\n", want: 0},
		{name: "nonroot base", rule: "DF001", src: "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n", want: 0},
		{name: "inherits non-root from stage", rule: "DF001",
			src: "FROM debian:12 AS base\nUSER app\nFROM base\nRUN true\n", want: 0},
		{name: "inherits root from stage", rule: "DF001",
			src: "FROM debian:12 AS base\nUSER root\nFROM base\nRUN true\n", want: 1, line: 2, msg: "inherits USER root"},
		{name: "earlier stage left as root", rule: "DF001",
			src: "FROM debian:12 AS build\nUSER root\nRUN make\nFROM scratch\nUSER 65532\n", want: 1,
			aliases: []string{"DL3002"}, line: 2, msg: "--target"},
		{name: "ONBUILD USER does not count", rule: "DF001",
			src: "FROM debian:12\nUSER app\nONBUILD USER root\n", want: 0},
	})
	// An earlier stage is not the default build result: MEDIUM, not HIGH.
	got := findingsOf(t, "FROM debian:12 AS build\nUSER root\nFROM scratch\nUSER 65532\n", nil, "DF001")
	if len(got) != 1 || got[0].Severity != report.Medium {
		t.Fatalf("intermediate stage finding = %+v", got)
	}
}

func TestInstructionBaseImages(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "untagged", rule: "DF002", src: "FROM debian\n", want: 1, aliases: []string{"DS-0001", "DL3006"}, msg: "no tag"},
		{name: "latest", rule: "DF002", src: "FROM debian:latest AS b\n", want: 1, aliases: []string{"DS-0001", "DL3007"}},
		{name: "tagged", rule: "DF002", src: "FROM debian:12\n", want: 0},
		{name: "digest", rule: "DF002", src: "FROM debian@sha256:" + strings.Repeat("a", 64) + "\n", want: 0},
		{name: "latest and digest", rule: "DF002", src: "FROM debian:latest@sha256:" + strings.Repeat("a", 64) + "\n", want: 0},
		{name: "scratch", rule: "DF002", src: "FROM scratch\n", want: 0},
		{name: "stage reference", rule: "DF002", src: "FROM debian:12 AS Build\nFROM build\n", want: 0},
		{name: "registry port", rule: "DF002", src: "FROM localhost:5000/app\n", want: 1, msg: "localhost:5000/app"},
		{name: "ARG default latest", rule: "DF002", src: "ARG TAG=latest\nFROM debian:${TAG}\n", want: 1,
			aliases: []string{"DS-0001"}, msg: "debian:latest"},
		{name: "ARG default image", rule: "DF002", src: "ARG BASE=node\nFROM $BASE\n", want: 1, aliases: []string{"DS-0001"}},
		{name: "ARG without default", rule: "DF002", src: "ARG BASE\nFROM ${BASE}\n", want: 0},
		{name: "fallback default", rule: "DF002", src: "ARG TAG\nFROM debian:${TAG:-latest}\n", want: 1},
		{name: "unresolvable tag", rule: "DF002", src: "ARG TAG\nFROM debian:$TAG\n", want: 0},
		{name: "not pinned", rule: "DF003", src: "FROM golang:1.23 AS build\nFROM debian:12\n", want: 2, msg: "golang:1.23"},
		{name: "pinned", rule: "DF003", src: "FROM debian:12@sha256:" + strings.Repeat("b", 64) + "\n", want: 0},
		{name: "scratch and stages", rule: "DF003", src: "FROM scratch AS a\nFROM a\n", want: 0},
		{name: "allowed", rule: "DF016", cfg: &Config{AllowedBases: []string{"docker.io/library/debian:*"}},
			src: "FROM debian:12\n", want: 0},
		{name: "repository pattern", rule: "DF016", cfg: &Config{AllowedBases: []string{"gcr.io/distroless/static-debian12"}},
			src: "FROM gcr.io/distroless/static-debian12:nonroot\n", want: 0},
		{name: "digest glob", rule: "DF016", cfg: &Config{AllowedBases: []string{"gcr.io/distroless/static-debian12@sha256:*"}},
			src: "FROM gcr.io/distroless/static-debian12:nonroot\n", want: 1, msg: "not in the allowed bases"},
		{name: "unresolved base", rule: "DF016", cfg: &Config{AllowedBases: []string{"debian:*"}},
			src: "ARG BASE\nFROM $BASE\n", want: 1, msg: "build argument"},
		{name: "no policy", rule: "DF016", src: "FROM anything:1\n", want: 0},
		{name: "stages exempt", rule: "DF016", cfg: &Config{AllowedBases: []string{"golang:*"}},
			src: "FROM golang:1.23 AS b\nFROM b\nFROM scratch\n", want: 0},
		{name: "untrusted", rule: "DF028", cfg: &Config{TrustedRegistries: []string{"registry.example.com"}},
			src: "FROM quay.io/x/y:1\n", want: 1, aliases: []string{"DL3026"}, msg: "quay.io"},
		{name: "hub alias", rule: "DF028", cfg: &Config{TrustedRegistries: []string{"hub.docker.com"}},
			src: "FROM debian:12\n", want: 0},
		{name: "platform literal", rule: "DF029", src: "FROM --platform=linux/amd64 debian:12\n", want: 1},
		{name: "platform variable", rule: "DF029", src: "FROM --platform=$BUILDPLATFORM debian:12\n", want: 0},
		{name: "platform ARG default", rule: "DF029", src: "ARG P=linux/arm64\nFROM --platform=$P debian:12\n", want: 1},
	})
}

func TestInstructionSecrets(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "ENV password", rule: "DF004", src: "FROM debian:12\nENV DB_PASSWORD=hunter2hunter2\n", want: 1,
			aliases: []string{"DL3064", "DS-0031", "CIS-DI-0010"}, msg: "DB_PASSWORD"},
		{name: "legacy ENV form", rule: "DF004", src: "FROM debian:12\nENV GITHUB_TOKEN ghp_notarealtoken\n", want: 1},
		{name: "ARG without default", rule: "DF004", src: "FROM debian:12\nARG NPM_TOKEN\nRUN npm ci\n", want: 1, msg: "build argument"},
		{name: "global ARG", rule: "DF004", src: "ARG API_SECRET=abc\nFROM debian:12\n", want: 1},
		{name: "ENV from ARG", rule: "DF004", src: "FROM debian:12\nARG X\nENV SERVICE_TOKEN=${X}\n", want: 1},
		{name: "empty ENV", rule: "DF004", src: "FROM debian:12\nENV DB_PASSWORD=\"\"\n", want: 0},
		{name: "ONBUILD ENV", rule: "DF004", src: "FROM debian:12\nONBUILD ENV ADMIN_PASSWORD=changeme1\n", want: 1},
		{name: "harmless", rule: "DF004", src: "FROM debian:12\nENV PATH=/opt/bin:$PATH LANG=C.UTF-8\nARG VERSION=1.2\n", want: 0},
	})
	// Never the value in the message; evidence redacted.
	const value = "s3cr3t-hunter2-value"
	got := findingsOf(t, "FROM debian:12\nENV DB_PASSWORD="+value+" MODE=prod\n", nil, "DF004")
	if len(got) != 1 {
		t.Fatalf("findings = %+v", got)
	}
	if strings.Contains(got[0].Message, value) || strings.Contains(got[0].Evidence, value) {
		t.Fatalf("secret leaked: %+v", got[0])
	}
	if got[0].Evidence != secrets.Redact(value) {
		t.Errorf("evidence = %q, want %q", got[0].Evidence, secrets.Redact(value))
	}
	// By value: whatever the content scanner recognises is reported even under a harmless name.
	const key = "AKIAZ7VRSQ5TYUBE3K4Q"
	want := 0
	if len(secrets.ScanString(key)) > 0 {
		want = 1
	}
	got = findingsOf(t, "FROM debian:12\nENV UPLOAD_ID="+key+"\n", nil, "DF004")
	if len(got) != want {
		t.Fatalf("value scan: %d findings, want %d", len(got), want)
	}
	for _, fd := range got {
		if strings.Contains(fd.Message, key) || strings.Contains(fd.Evidence, key) {
			t.Fatalf("secret leaked: %+v", fd)
		}
	}
}

func TestInstructionCopyAdd(t *testing.T) {
	noIgnore := &Config{HasDockerignore: boolPtr(false)}
	runInstrCases(t, []instrCase{
		{name: "whole context", rule: "DF005", cfg: noIgnore, src: "FROM node:22\nWORKDIR /app\nCOPY . .\n", want: 1, line: 3},
		{name: "ADD dot", rule: "DF005", cfg: noIgnore, src: "FROM node:22\nADD . /app\n", want: 1},
		{name: "exec form", rule: "DF005", cfg: noIgnore, src: "FROM node:22\nCOPY [\"./\", \"/app/\"]\n", want: 1},
		{name: "dockerignore present", rule: "DF005", cfg: &Config{HasDockerignore: boolPtr(true)}, src: "FROM node:22\nCOPY . .\n", want: 0},
		{name: "unknown context", rule: "DF005", src: "FROM node:22\nCOPY . .\n", want: 0},
		{name: "from stage", rule: "DF005", cfg: noIgnore, src: "FROM node:22 AS b\nFROM nginx:1\nCOPY --from=b . .\n", want: 0},
		{name: "specific files", rule: "DF005", cfg: noIgnore, src: "FROM node:22\nCOPY package.json ./\n", want: 0},

		{name: "url", rule: "DF006", src: "FROM debian:12\nADD https://example.com/x.tgz /opt/\n", want: 1, msg: "--checksum"},
		{name: "url with checksum", rule: "DF006", src: "FROM debian:12\nADD --checksum=sha256:abc https://example.com/x.tgz /opt/\n", want: 0},
		{name: "git ref", rule: "DF006", src: "FROM debian:12\nADD https://github.com/a/b.git#v1.0 /src\n", want: 1, msg: "Git"},
		{name: "git ssh", rule: "DF006", src: "FROM debian:12\nADD git@github.com:a/b.git /src\n", want: 1},
		{name: "git commit", rule: "DF006", src: "FROM debian:12\nADD https://github.com/a/b.git#" + strings.Repeat("c", 40) + " /src\n", want: 0},
		{name: "local", rule: "DF006", src: "FROM debian:12\nADD app.tar.gz /opt/\n", want: 0},
		{name: "ONBUILD ADD url", rule: "DF006", src: "FROM debian:12\nONBUILD ADD http://x/y /z\n", want: 1},

		{name: "local file", rule: "DF022", src: "FROM debian:12\nADD config.yaml /etc/app/\n", want: 1,
			aliases: []string{"DL3020", "DS-0005", "CIS-DI-0009"}},
		{name: "tarball", rule: "DF022", src: "FROM debian:12\nADD rootfs.tar.xz /\n", want: 0},
		{name: "git source", rule: "DF022", src: "FROM debian:12\nADD git@github.com:a/b.git /src\n", want: 0},

		{name: "COPY multi", rule: "DF023", src: "FROM debian:12\nCOPY a b /app\n", want: 1, aliases: []string{"DL3021", "DS-0011"}},
		{name: "ADD multi", rule: "DF023", src: "FROM debian:12\nADD a b /app\n", want: 1, aliases: []string{}},
		{name: "trailing slash", rule: "DF023", src: "FROM debian:12\nCOPY [\"a\", \"b\", \"/app/\"]\n", want: 0},
		{name: "variable dest", rule: "DF023", src: "FROM debian:12\nCOPY a b $DEST\n", want: 0},

		{name: "relative no workdir", rule: "DF032", src: "FROM node:22\nCOPY . .\n", want: 1, aliases: []string{"DL3045"}},
		{name: "ADD relative", rule: "DF032", src: "FROM node:22\nADD x.tgz app/\n", want: 1, aliases: []string{}},
		{name: "workdir later", rule: "DF032", src: "FROM node:22\nCOPY a b\nWORKDIR /app\nCOPY c d\n", want: 1, line: 2},
		{name: "ONBUILD COPY after top-level WORKDIR", rule: "DF032", src: "FROM node:22\nONBUILD COPY . .\nWORKDIR /app\n", want: 0},
		{name: "ONBUILD COPY without any WORKDIR", rule: "DF032", src: "FROM node:22\nONBUILD COPY . .\n", want: 1},
		{name: "heredoc dest", rule: "DF032", src: "FROM node:22\nCOPY <<EOF app.conf\nx=1\nEOF\n", want: 1},

		{name: "archive then tar", rule: "DF019", src: "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN set -eux; \\\n  mkdir /opt/app; \\\n  tar -C /opt/app -xzf /tmp/app.tar.gz\n", want: 1, line: 2},
		{name: "archive then gunzip via sudo", rule: "DF019", src: "FROM debian:12\nCOPY data.gz /d/\nRUN sudo gunzip /d/data.gz\n", want: 1},
		{name: "archive not extracted", rule: "DF019", src: "FROM debian:12\nCOPY app.tar.gz /srv/\nRUN sha256sum /srv/app.tar.gz\n", want: 0},
		{name: "other stage", rule: "DF019", src: "FROM debian:12\nCOPY app.tar /x/\nFROM debian:12\nRUN tar xf /x/app.tar\n", want: 0},
	})
}

func TestInstructionCopyFrom(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "unknown", rule: "DF024", src: "FROM debian:12\nCOPY --from=bulid /out /app\n", want: 1, msg: "bulid:latest"},
		{name: "known, case-insensitive", rule: "DF024", src: "FROM golang:1 AS Build\nFROM debian:12\nCOPY --from=BUILD /out /app\n", want: 0},
		{name: "later stage", rule: "DF024", src: "FROM debian:12\nCOPY --from=b /x /y\nFROM debian:12 AS b\n", want: 1, msg: "later"},
		{name: "index", rule: "DF024", src: "FROM golang:1\nFROM debian:12\nCOPY --from=0 /x /y\n", want: 0},
		{name: "own index", rule: "DF024", src: "FROM golang:1\nFROM debian:12\nCOPY --from=1 /x /y\n", want: 1},
		{name: "image", rule: "DF024", src: "FROM debian:12\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n", want: 0},
		{name: "variable", rule: "DF024", src: "FROM debian:12\nARG SRC=x\nCOPY --from=$SRC /a /b\n", want: 0},
		{name: "self", rule: "DF025", src: "FROM debian:12 AS app\nCOPY --from=app /a /b\n", want: 1, aliases: []string{"DL3023", "DS-0006"}},
		{name: "self is not DF024", rule: "DF024", src: "FROM debian:12 AS app\nCOPY --from=app /a /b\n", want: 0},
		{name: "duplicate stage", rule: "DF026", src: "FROM a:1 AS x\nFROM b:1 AS X\n", want: 1, line: 2},
	})
}

func TestInstructionWorldWritable(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "chmod 777", rule: "DF013", src: "FROM debian:12\nRUN chmod -R 777 /app\n", want: 1, msg: "/app"},
		{name: "chain", rule: "DF013", src: "FROM debian:12\nRUN set -eux; mkdir /data && chmod o+w /data\n", want: 1},
		{name: "sudo", rule: "DF013", src: "FROM debian:12\nRUN sudo chmod 0666 /etc/app.conf\n", want: 1},
		{name: "mkdir -m", rule: "DF013", src: "FROM debian:12\nRUN mkdir -m 777 /shared\n", want: 1},
		{name: "exec form", rule: "DF013", src: "FROM debian:12\nRUN [\"chmod\", \"a+rwx\", \"/x\"]\n", want: 1},
		{name: "sh -c", rule: "DF013", src: "FROM debian:12\nRUN [\"sh\", \"-c\", \"chmod 777 /x\"]\n", want: 1},
		{name: "heredoc", rule: "DF013", src: "FROM debian:12\nRUN <<EOF\nset -e\nchmod 777 /x\nEOF\n", want: 1},
		{name: "COPY --chmod", rule: "DF013", src: "FROM debian:12\nCOPY --chmod=777 run.sh /\n", want: 1},
		{name: "sticky tmp", rule: "DF013", src: "FROM debian:12\nRUN chmod 1777 /tmp/cache\n", want: 0},
		{name: "755", rule: "DF013", src: "FROM debian:12\nRUN chmod 755 /app && chmod u+w /app\n", want: 0},
		{name: "removed in same RUN", rule: "DF013", src: "FROM debian:12\nRUN d=\"$(mktemp -d)\" && chmod 777 \"$d\" && rm -rf \"$d\"\n", want: 0},
	})
	for mode, want := range map[string]bool{
		"777": true, "0777": true, "666": true, "002": true, "1777": false, "755": false, "644": false,
		"o+w": true, "a+rwx": true, "u+x,o+w": true, "go=rwx": true, "o-w": false, "u+w": false,
		"+w": false, "a+rwxt": false, "": false, "file": false,
	} {
		if got := worldWritable(mode); got != want {
			t.Errorf("worldWritable(%q) = %v, want %v", mode, got, want)
		}
	}
}

func TestInstructionHealthcheckAndSocket(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "missing", rule: "DF014", src: "FROM nginx:1.27\nCMD [\"nginx\"]\n", want: 1, aliases: []string{"DL3057", "DS-0026", "CIS-DI-0006"}},
		{name: "present", rule: "DF014", src: "FROM nginx:1.27\nHEALTHCHECK CMD curl -f http://localhost/\n", want: 0},
		{name: "NONE is a decision", rule: "DF014", src: "FROM nginx:1.27\nHEALTHCHECK NONE\n", want: 0},
		{name: "inherited from stage", rule: "DF014", src: "FROM nginx:1.27 AS base\nHEALTHCHECK NONE\nFROM base\n", want: 0},
		{name: "only an earlier stage", rule: "DF014", src: "FROM nginx:1.27\nHEALTHCHECK NONE\nFROM nginx:1.27\n", want: 1},
		{name: "artifact image", rule: "DF014", src: "FROM golang:1 AS b\nFROM scratch\nCOPY --from=b /out /\n", want: 0},
		{name: "scratch service", rule: "DF014", src: "FROM scratch\nCOPY app /\nENTRYPOINT [\"/app\"]\n", want: 1},
		{name: "multiple", rule: "DF021", src: "FROM a:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD true\n", want: 1, line: 3},

		{name: "VOLUME", rule: "DF015", src: "FROM docker:27\nVOLUME /var/run/docker.sock\n", want: 1},
		{name: "RUN", rule: "DF015", src: "FROM docker:27\nRUN chmod 666 /var/run/docker.sock || true\n", want: 1},
		{name: "ENV DOCKER_HOST", rule: "DF015", src: "FROM docker:27\nENV DOCKER_HOST=unix:///run/docker.sock\n", want: 1},
		{name: "heredoc", rule: "DF015", src: "FROM docker:27\nRUN <<EOF\ncurl --unix-socket /var/run/docker.sock http://x/\nEOF\n", want: 1},
		{name: "COPY", rule: "DF015", src: "FROM docker:27\nCOPY docker.sock /var/run/docker.sock\n", want: 1},
		{name: "unrelated", rule: "DF015", src: "FROM docker:27\nRUN docker version\n", want: 0},
	})
}

func TestInstructionHadolintOnly(t *testing.T) {
	runInstrCases(t, []instrCase{
		{name: "hadolint pragma", rule: "DF017", src: "FROM a:1\n# hadolint ignore=DL3008\nRUN apt-get install x\n", want: 1, aliases: []string{"DL1001"}, line: 2},
		{name: "charter pragma with reason", rule: "DF017", src: "FROM a:1\n# charter ignore=DF010 pinned by snapshot\nRUN apt-get install x\n", want: 0},
		{name: "charter pragma without reason", rule: "DF017", src: "FROM a:1\n# charter ignore=DF010\nRUN apt-get install x\n", want: 1, aliases: []string{}},
		{name: "pragma text in heredoc", rule: "DF017", src: "FROM a:1\nCOPY <<EOF /x\n# hadolint ignore=DL3008\nEOF\n", want: 0},

		{name: "relative WORKDIR", rule: "DF018", src: "FROM a:1\nWORKDIR app\n", want: 1, aliases: []string{"DL3000", "DS-0009"}},
		{name: "absolute WORKDIR", rule: "DF018", src: "FROM a:1\nWORKDIR /app\n", want: 0},

		{name: "port", rule: "DF020", src: "FROM a:1\nEXPOSE 80 443 99999/udp\n", want: 1, msg: "99999"},
		{name: "ports fine", rule: "DF020", src: "FROM a:1\nEXPOSE 80 8000-8100/tcp $PORT\n", want: 0},

		{name: "shell CMD", rule: "DF027", src: "FROM a:1\nCMD node server.js\n", want: 1},
		{name: "exec ENTRYPOINT", rule: "DF027", src: "FROM a:1\nENTRYPOINT [\"node\"]\n", want: 0},

		{name: "ENV self reference", rule: "DF031", src: "FROM a:1\nENV A=/opt B=$A/bin\n", want: 1, msg: "$A"},
		{name: "ENV split", rule: "DF031", src: "FROM a:1\nENV A=/opt\nENV B=$A/bin\n", want: 0},
		{name: "ENV inherited", rule: "DF031", src: "FROM a:1 AS b\nENV A=1\nFROM b\nENV A=2 B=$A\n", want: 0},
		{name: "ENV not inherited", rule: "DF031", src: "FROM a:1 AS b\nENV A=1\nFROM a:1\nENV A=2 B=${A:-x}\n", want: 1},

		{name: "MAINTAINER", rule: "DF034", src: "FROM a:1\nMAINTAINER me <me@example.com>\n", want: 1, aliases: []string{"DL4000", "DS-0022"}},
		{name: "two CMD", rule: "DF035", src: "FROM a:1\nCMD a\nCMD b\nCMD c\n", want: 2},
		{name: "two ENTRYPOINT", rule: "DF036", src: "FROM a:1\nENTRYPOINT a\nFROM b:1\nENTRYPOINT a\nENTRYPOINT b\n", want: 1, line: 5},
	})
}

// The parser refuses instructions before FROM and forbidden ONBUILD triggers today; the
// rules still report them when handed such a file.
func TestInstructionStructuralRules(t *testing.T) {
	st := &Stage{Index: 0, Base: "debian:12", BaseExpanded: "debian:12"}
	st.From = &Instruction{Cmd: "FROM", Args: []string{"debian:12"}, Line: 2, Stage: st}
	label := &Instruction{Cmd: "LABEL", Args: []string{"a", "b", "="}, Line: 1}
	trigger := &Instruction{Cmd: "ONBUILD", Line: 3, Stage: st, Inner: &Instruction{Cmd: "FROM", OnBuild: true, Line: 3}}
	st.Instructions = []*Instruction{trigger}
	f := &File{Path: "Dockerfile", Stages: []*Stage{st}, Global: []*Instruction{label},
		Instructions: []*Instruction{label, st.From, trigger}}
	got := map[string]int{}
	for _, fd := range Lint(f, nil) {
		got[fd.Rule]++
	}
	if got["DF033"] != 1 || got["DF030"] != 1 {
		t.Fatalf("DF033=%d DF030=%d, want 1 and 1", got["DF033"], got["DF030"])
	}
}

func TestInstructionRuleMetadata(t *testing.T) {
	seen := map[string]bool{}
	for _, chk := range instructionChecks {
		r := chk.Rule
		if r.ID == "" || r.Title == "" || r.Remediation == "" || r.Example == "" || r.Category != "dockerfile" || r.Severity == report.SeverityNone {
			t.Errorf("%s: incomplete metadata %+v", r.ID, r)
		}
		if strings.Count(r.Description, ". ") < 1 {
			t.Errorf("%s: description needs at least two sentences", r.ID)
		}
		if len(r.References) == 0 {
			t.Errorf("%s: no references", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("%s: duplicate ID", r.ID)
		}
		seen[r.ID] = true
		for _, a := range r.Aliases {
			if strings.HasPrefix(a, "DL") && !slices.Contains(r.References, hadolintWiki+a) {
				t.Errorf("%s: alias %s without its hadolint wiki reference", r.ID, a)
			}
			if seen["alias:"+a] {
				t.Errorf("%s: alias %s used twice", r.ID, a)
			}
			seen["alias:"+a] = true
		}
		if chk.run == nil {
			t.Errorf("%s: no check function", r.ID)
		}
	}
}

func TestInstructionHelpers(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything/at/all", true},
		{"gcr.io/distroless/*", "gcr.io/distroless/static:nonroot", true},
		{"debian:1?", "debian:12", true},
		{"debian:1?", "debian:123", false},
		{"*.example.com/app", "registry.example.com/app", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
	if got := normalizeImageRef("debian:12"); got != "docker.io/library/debian:12" {
		t.Errorf("normalizeImageRef = %q", got)
	}
	if !registryTrusted("foo.random.com", []string{"*.random.com"}) || registryTrusted("x.com", []string{"*.random.com"}) {
		t.Error("registryTrusted wildcard")
	}
	for s, want := range map[string]bool{"$A": true, "${A}": true, "${A:-x}": true, "$AB": false, "x/$A/y": true, `\$A`: false, "$B$A": true} {
		if got := referencesVar(s, "A"); got != want {
			t.Errorf("referencesVar(%q) = %v", s, got)
		}
	}
}
