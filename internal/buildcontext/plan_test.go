package buildcontext

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// finalMap lists "context path -> destination" for what lands in the final image.
func finalMap(p *Plan) []string {
	var out []string
	for _, l := range p.Final {
		out = append(out, l.Path+" -> "+l.Dest)
	}
	slices.Sort(out)
	return out
}

func resolve(t *testing.T, files map[string]string) *Plan {
	t.Helper()
	c := load(t, files)
	return Resolve(c, parseDockerfile(t, files["Dockerfile"]))
}

func TestResolveCopySources(t *testing.T) {
	tree := map[string]string{
		"app/main.py":        "x",
		"app/lib/util.py":    "x",
		"app/.env":           "x",
		"conf/a.json":        "x",
		"conf/b.json":        "x",
		"conf/c.yaml":        "x",
		"conf/sub/d.json":    "x",
		"arr[0].txt":         "x",
		"link-to-conf":       "-> conf",
		"link-out":           "-> /etc/passwd",
		"docs/readme.md":     "x",
		"docs/api/ref.md":    "x",
		"docs/api/notes.txt": "x",
		"x/y/a.txt":          "x",
		"x/y/b.txt":          "x",
	}
	cases := []struct {
		name, dockerfile string
		want             []string
	}{
		{"directory contents, not the directory", "COPY app /srv/", []string{"app/.env -> /srv/.env", "app/lib/util.py -> /srv/lib/util.py", "app/main.py -> /srv/main.py"}},
		{"file into a directory", "COPY app/main.py /srv/", []string{"app/main.py -> /srv/main.py"}},
		{"file to a file path", "COPY app/main.py /srv/app.py", []string{"app/main.py -> /srv/app.py"}},
		{"glob stops at /", "COPY conf/*.json /etc/app/", []string{"conf/a.json -> /etc/app/a.json", "conf/b.json -> /etc/app/b.json"}},
		{"glob over directories copies their contents", "COPY co?f /c/", []string{"conf/a.json -> /c/a.json", "conf/b.json -> /c/b.json", "conf/c.yaml -> /c/c.yaml", "conf/sub/d.json -> /c/sub/d.json"}},
		{"character class", "COPY conf/[ab].json /c/", []string{"conf/a.json -> /c/a.json", "conf/b.json -> /c/b.json"}},
		{"escaped bracket", "COPY arr[[]0].txt /c/", []string{"arr[0].txt -> /c/arr[0].txt"}},
		{"leading / and .. stay in the context", "COPY /../app/../conf/c.yaml /c/", []string{"conf/c.yaml -> /c/c.yaml"}},
		{"symlink source followed inside the context", "COPY link-to-conf/c.yaml /c/", []string{"conf/c.yaml -> /c/c.yaml"}},
		{"symlink out of the context does not resolve", "COPY link-out /c/", nil},
		{"--exclude is relative to the source", "COPY --exclude=*.json --exclude=sub conf /c/", []string{"conf/c.yaml -> /c/c.yaml"}},
		{"--exclude with an exception", "COPY --exclude=* --exclude=!b.json conf /c/", []string{"conf/b.json -> /c/b.json"}},
		{"--exclude does not apply to the source itself (moby/buildkit#5489)", "COPY --exclude=*.yaml conf/c.yaml /c/", []string{"conf/c.yaml -> /c/c.yaml"}},
		{"--parents keeps the path", "COPY --parents x/y/a.txt docs/readme.md /p/", []string{"docs/readme.md -> /p/docs/readme.md", "x/y/a.txt -> /p/x/y/a.txt"}},
		{"--parents with a pivot", "COPY --parents ./x/./y/*.txt /p/", []string{"x/y/a.txt -> /p/y/a.txt", "x/y/b.txt -> /p/y/b.txt"}},
		{"--parents with **", "COPY --parents docs/**/*.md /p/", []string{"docs/api/ref.md -> /p/docs/api/ref.md", "docs/readme.md -> /p/docs/readme.md"}},
		{"heredoc is not from the context", "COPY <<EOF /etc/motd\nhello\nEOF", nil},
		{"ADD of a URL or a Git repository is not from the context", "ADD https://example.com/app.env git@github.com:o/r.git /x/", nil},
		{"COPY --from an image is not from the context", "COPY --from=alpine:3.20 /etc/passwd /x", nil},
		{"WORKDIR makes relative destinations", "WORKDIR /srv\nWORKDIR app\nCOPY conf/c.yaml .", []string{"conf/c.yaml -> /srv/app/c.yaml"}},
		{"ARG default in the source", "ARG DIR=conf\nCOPY ${DIR}/c.yaml /c/", []string{"conf/c.yaml -> /c/c.yaml"}},
		{"ENV in the destination", "ENV HOME=/home/app\nCOPY conf/c.yaml $HOME/", []string{"conf/c.yaml -> /home/app/c.yaml"}},
		{"JSON form", `COPY ["conf/c.yaml", "/c/"]`, []string{"conf/c.yaml -> /c/c.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"Dockerfile": "FROM scratch\n" + tc.dockerfile + "\n"}
			for k, v := range tree {
				files[k] = v
			}
			p := resolve(t, files)
			if got := finalMap(p); !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q\nwarnings %q", got, tc.want, p.Warnings)
			}
		})
	}
}

// TestResolveFollowsStages: a file copied into a build stage and from there into the
// final stage lands; one left in a discarded stage does not.
func TestResolveFollowsStages(t *testing.T) {
	p := resolve(t, map[string]string{
		"Dockerfile": `FROM golang:1.23 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM alpine:3.20 AS test
COPY secrets/test.key /keys/

FROM build AS configured
COPY config/ /src/config/

FROM gcr.io/distroless/static
COPY --from=configured /src/config /etc/app
COPY --from=1 /keys/test.key /tmp/
COPY --from=build /out/app /app
`,
		"main.go":           "x",
		"config/app.yaml":   "x",
		"secrets/test.key":  "x",
		"secrets/other.key": "x",
	})
	want := []string{
		"config/app.yaml -> /etc/app/app.yaml",
		"secrets/test.key -> /tmp/test.key",
	}
	if got := finalMap(p); !slices.Equal(got, want) {
		t.Errorf("final %q\nwant %q", got, want)
	}
	l := p.Final[0]
	if len(l.Steps) != 2 || l.Steps[0].Instruction.Line != 10 || l.Steps[1].Instruction.Line != 13 {
		t.Errorf("steps of %s: %+v", l.Path, l.Steps)
	}
	var inter []string
	for _, l := range p.Intermediate {
		inter = append(inter, fmt.Sprintf("%s@%s", l.Path, StageName(l.Stage)))
	}
	if !slices.Contains(inter, "secrets/other.key@build") || slices.Contains(inter, "secrets/test.key@test") {
		t.Errorf("intermediate %q", inter)
	}
}

func TestResolveFromStageChainAndOnbuild(t *testing.T) {
	p := resolve(t, map[string]string{
		"Dockerfile": `FROM scratch AS base
ONBUILD COPY triggers/ /t/
COPY base.txt /b/

FROM base AS final
COPY top.txt /
`,
		"base.txt":       "x",
		"top.txt":        "x",
		"triggers/x.txt": "x",
	})
	want := []string{"base.txt -> /b/base.txt", "top.txt -> /top.txt", "triggers/x.txt -> /t/x.txt"}
	if got := finalMap(p); !slices.Equal(got, want) {
		t.Errorf("final %q\nwant %q", got, want)
	}
}

func TestResolveUnresolvable(t *testing.T) {
	p := resolve(t, map[string]string{
		"Dockerfile": `ARG SRC
FROM node:22 AS build
ARG SRC
COPY $SRC /src/
COPY . app/

FROM scratch
COPY --from=build /app/dist /dist
COPY --from=$STAGE /x /y
COPY missing.txt /m
`,
		"dist/index.js": "x",
		".env":          "x",
	})
	var reasons []string
	for _, u := range p.Unresolved {
		reasons = append(reasons, fmt.Sprintf("%d %v %s", u.Instruction.Line, u.AnyFile, u.Reason))
	}
	if len(p.Unresolved) != 2 || !p.Unresolved[0].AnyFile || p.Unresolved[1].AnyFile ||
		!slices.Contains(p.Unresolved[1].Paths, ".env") {
		t.Errorf("unresolved %q", reasons)
	}
	// node's WORKDIR is not known statically: "/" is assumed, and the landing says so.
	if len(p.Final) != 1 || p.Final[0].Dest != "/dist/index.js" || !p.Final[0].Uncertain {
		t.Errorf("final %+v, want dist/index.js marked uncertain", p.Final)
	}
	w := strings.Join(p.Warnings, "\n")
	if !strings.Contains(w, "Dockerfile:9: COPY --from=$STAGE") || !strings.Contains(w, `Dockerfile:10: COPY source "missing.txt": not found`) {
		t.Errorf("warnings %q", p.Warnings)
	}
}

func TestResolveRunMounts(t *testing.T) {
	p := resolve(t, map[string]string{
		"Dockerfile": "FROM alpine\nRUN --mount=type=bind,source=creds,target=/c --mount=type=cache,target=/root/.cache cat /c/x\n" +
			"RUN --mount=type=secret,id=npm true\nRUN --mount=target=/w make\n",
		"creds/x": "x",
	})
	if len(p.Mounts) != 2 || p.Mounts[0].Path != "creds" || p.Mounts[1].Path != "" {
		t.Errorf("mounts %+v", p.Mounts)
	}
}
