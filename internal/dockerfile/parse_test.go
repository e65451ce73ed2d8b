package dockerfile

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStagesAndArgs(t *testing.T) {
	src := `# syntax=docker/dockerfile:1.7
ARG BASE=golang:1.22
ARG TAG
FROM $BASE AS build
RUN go build -o /app .
FROM build AS test
RUN go test ./...
FROM gcr.io/distroless/static:${TAG:-nonroot}
COPY --from=build /app /app
ONBUILD RUN apt-get update
USER 65532
`
	f, err := ParseBytes("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Syntax != "docker/dockerfile:1.7" {
		t.Errorf("syntax = %q", f.Syntax)
	}
	if len(f.Stages) != 3 {
		t.Fatalf("stages = %d", len(f.Stages))
	}
	if got := f.Stages[0].BaseExpanded; got != "golang:1.22" {
		t.Errorf("stage 0 base = %q", got)
	}
	if f.Stages[1].BaseStage != f.Stages[0] {
		t.Errorf("FROM build should link to stage 0")
	}
	if got := f.Stages[2].BaseExpanded; got != "gcr.io/distroless/static:nonroot" {
		t.Errorf("stage 2 base = %q", got)
	}
	if f.StageByName("build") != f.Stages[0] || f.StageByName("1") != f.Stages[1] {
		t.Errorf("StageByName failed")
	}
	var onbuild *Instruction
	f.Each(func(i *Instruction) {
		if i.OnBuild {
			onbuild = i
		}
	})
	if onbuild == nil || onbuild.Cmd != "RUN" || onbuild.Line != 10 {
		t.Fatalf("ONBUILD inner = %+v", onbuild)
	}
	if c := onbuild.Script().Commands; len(c) != 1 || c[0].Name != "apt-get" {
		t.Errorf("ONBUILD script = %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"FROM alpine\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"},
		{"# just a comment\n", "Dockerfile:"},
		{"FROM a b c d\n", "Dockerfile:1: FROM requires"},
		{"FROM alpine\nRUN <<EOF\necho hi\n", "Dockerfile:2: unterminated heredoc"},
		{"FROM alpine\x00\n", "binary"},
	} {
		_, err := ParseBytes("Dockerfile", []byte(tc.src))
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestShellParsing(t *testing.T) {
	s := ParseShell(`set -eux; apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -qy --no-install-recommends curl=7.88 \
  && curl -fsSL https://x.example/install.sh | sh -s -- --yes; bash -c "sudo make install"`)
	if s.Err != nil {
		t.Fatal(s.Err)
	}
	var names []string
	for _, c := range s.Commands {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "set apt-get apt-get curl sh bash sudo" {
		t.Fatalf("commands = %s", got)
	}
	install := s.Commands[2]
	if !install.HasFlag("y") || !install.HasFlag("no-install-recommends") || install.HasFlag("x") {
		t.Errorf("flags wrong: %v", install.Args)
	}
	if got := install.Positionals(); strings.Join(got, " ") != "install curl=7.88" {
		t.Errorf("positionals = %v", got)
	}
	if len(install.Assigns) != 1 {
		t.Errorf("assigns = %v", install.Assigns)
	}
	curl := s.Commands[3]
	if len(curl.Pipeline) != 2 || curl.Pipeline[1].Name != "sh" {
		t.Errorf("pipeline = %+v", curl.Pipeline)
	}
	if u := s.Commands[6].Unwrapped(); u.Name != "make" {
		t.Errorf("unwrapped = %s", u.Name)
	}
}

func TestPragmas(t *testing.T) {
	src := "FROM alpine\n# hadolint ignore=DL3018\nRUN apk add curl\n# charter global ignore=DF014 no healthcheck for jobs\n"
	f, err := ParseBytes("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if pr, ok := f.pragmas.match(3, []string{"DF010", "DL3018"}); !ok || pr.by != "hadolint" {
		t.Errorf("line pragma not matched")
	}
	if _, ok := f.pragmas.match(1, []string{"DL3018"}); ok {
		t.Errorf("line pragma leaked to line 1")
	}
	if pr, ok := f.pragmas.match(1, []string{"DF014"}); !ok || pr.reason != "no healthcheck for jobs" {
		t.Errorf("global pragma = %+v %v", pr, ok)
	}
}
