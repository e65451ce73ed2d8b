package dockerfile

import (
	"fmt"
	"strings"

	"github.com/charterhq/charter/internal/report"
)

// buildkitChecks are the rules about BuildKit-era Dockerfile features: --platform, cache
// mounts for language package managers, whole-filesystem copies between stages, and
// numeric users for runtimes that verify them.
var buildkitChecks = []check{
	{Rule: report.Rule{
		ID:       "DF170",
		Aliases:  []string{"DL3065"},
		Severity: report.Low,
		Title:    "FROM --platform=$TARGETPLATFORM is redundant",
		Description: "BuildKit already pulls every base image for the target platform, so `--platform=$TARGETPLATFORM` says nothing new. " +
			"It also reads like a cross-compilation setup, which hides where `--platform=$BUILDPLATFORM` was meant for a builder stage that should run natively.",
		Remediation: "Drop the flag; for a builder stage that cross-compiles, use `FROM --platform=$BUILDPLATFORM`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3065",
			"https://docs.docker.com/build/building/multi-platform/",
		},
		Category: "dockerfile",
		Example:  "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM alpine:3.20",
	}, run: checkRedundantPlatform},
	{Rule: report.Rule{
		ID:       "DF171",
		Aliases:  []string{"DL3066"},
		Severity: report.Info,
		Title:    "Image runs as a user name, not a numeric UID",
		Description: "A runtime can only prove that a container does not run as root when the image's user is numeric: " +
			"Kubernetes refuses to start a pod with runAsNonRoot when the image says `USER app` (\"image has non-numeric user, cannot verify user is non-root\"), " +
			"and a name also depends on the image's /etc/passwd resolving it the same way everywhere.",
		Remediation: "Create the user with a fixed UID and refer to it by number: `RUN useradd -u 10001 app` then `USER 10001:10001`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3066",
			"https://kubernetes.io/docs/concepts/security/pod-security-standards/",
		},
		Category: "dockerfile",
		Example:  "RUN useradd -r -u 10001 app\nUSER 10001:10001",
	}, run: checkNumericUser},
	{Rule: report.Rule{
		ID:       "DF172",
		Aliases:  []string{"DL3067"},
		Severity: report.Low,
		Title:    "Whole filesystem copied from another stage",
		Description: "`COPY --from=build / /` copies the entire builder filesystem, compilers, caches, package databases and any secret left there, over the new stage. " +
			"It defeats the point of a multi-stage build and makes the final image's contents depend on everything the builder ever touched.",
		Remediation: "Copy only the artifacts the image needs: `COPY --from=build /out/app /usr/local/bin/app`.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3067"},
		Category:    "dockerfile",
		Example:     "COPY --from=build /out/app /usr/local/bin/app",
	}, run: checkWholeFilesystemCopy},
	{Rule: report.Rule{
		ID:       "DF173",
		Aliases:  []string{"DL3069", "DL3070", "DL3071", "DL3072", "DL3073", "DL3074", "DL3075", "DL3076", "DL3077"},
		Severity: report.Info,
		Title:    "Dependency download without a BuildKit cache mount",
		Description: "Language package managers (cargo, go, Maven, Gradle, Composer, NuGet, pnpm, Mix, gem/bundler) download the same dependencies on every rebuild " +
			"unless their download directory is a BuildKit cache mount. Without one, builds are slower and depend on the network every time, " +
			"and the downloaded archives can end up in a layer.",
		Remediation: "Add a cache mount for the tool's download directory to the RUN, e.g. `RUN --mount=type=cache,target=/root/.cargo/registry cargo build` " +
			"or `RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go build ./...`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3069",
			"https://github.com/hadolint/hadolint/wiki/DL3070",
			"https://github.com/hadolint/hadolint/wiki/DL3071",
			"https://github.com/hadolint/hadolint/wiki/DL3072",
			"https://github.com/hadolint/hadolint/wiki/DL3073",
			"https://github.com/hadolint/hadolint/wiki/DL3074",
			"https://github.com/hadolint/hadolint/wiki/DL3075",
			"https://github.com/hadolint/hadolint/wiki/DL3076",
			"https://github.com/hadolint/hadolint/wiki/DL3077",
			"https://docs.docker.com/build/cache/optimize/#use-cache-mounts",
		},
		Category: "dockerfile",
		Example:  "RUN --mount=type=cache,target=/go/pkg/mod \\\n    --mount=type=cache,target=/root/.cache/go-build \\\n    go build -o /out/app ./cmd/app",
	}, run: checkCacheMounts},
}

func checkRedundantPlatform(c *Context) {
	for _, st := range c.File.Stages {
		switch p := strings.TrimSpace(st.Platform); p {
		case "$TARGETPLATFORM", "${TARGETPLATFORM}":
			c.Report(st.From, fmt.Sprintf("FROM --platform=%s is what BuildKit does by default; drop the flag", p))
		}
	}
}

// checkNumericUser looks at the user the final image runs as: the last USER of the final
// stage, or of the stages it builds on.
func checkNumericUser(c *Context) {
	var last *Instruction
	for st := c.File.Final(); st != nil && last == nil; st = st.BaseStage {
		for _, ins := range st.Instructions {
			if ins.Cmd == "USER" && len(ins.Args) > 0 {
				last = ins
			}
		}
	}
	if last == nil || windowsImage(c.File.Final()) {
		return // Windows containers name their users (ContainerUser); there is no UID
	}
	spec := unquote(strings.TrimSpace(last.Args[0]))
	user, _, _ := strings.Cut(spec, ":")
	if user == "" || isNumericID(user) || strings.Contains(user, "$") {
		return // numeric, or filled in from a build argument we cannot see
	}
	c.Report(last, fmt.Sprintf("USER %s is a name; runtimes enforcing non-root (Kubernetes runAsNonRoot) need a numeric UID", spec))
}

// windowsImage reports whether a stage builds a Windows image, judged by its platform or
// by the Windows base images' names.
func windowsImage(st *Stage) bool {
	root := st.Root()
	if strings.HasPrefix(strings.ToLower(root.Platform), "windows") {
		return true
	}
	base := strings.ToLower(root.BaseExpanded)
	for _, w := range []string{"windows", "nanoserver", "servercore"} {
		if strings.Contains(base, w) {
			return true
		}
	}
	return false
}

func checkWholeFilesystemCopy(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "COPY" {
			return
		}
		from, ok := ins.Flag("from")
		if !ok {
			return
		}
		srcs, dest := copyOperands(ins)
		if dest != "/" {
			return
		}
		for _, s := range srcs {
			if s == "/" {
				c.Report(ins, fmt.Sprintf("COPY --from=%s / / copies that stage's whole filesystem into this one", from))
				return
			}
		}
	})
}

// mountSpec is one --mount of a RUN.
type mountSpec struct {
	typ, target string
}

// parseRunMounts parses a RUN's --mount flags (`type=cache,target=/root/.cache,sharing=locked`);
// the type defaults to bind, as in BuildKit.
func parseRunMounts(ins *Instruction) []mountSpec {
	var out []mountSpec
	for _, v := range ins.FlagValues("mount") {
		m := mountSpec{typ: "bind"}
		for _, field := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(field), "=")
			val = unquote(val)
			switch strings.ToLower(k) {
			case "type":
				m.typ = strings.ToLower(val)
			case "target", "dst", "destination":
				m.target = val
			}
		}
		out = append(out, m)
	}
	return out
}

// depCache is a package manager whose downloads belong in a cache mount.
type depCache struct {
	alias string
	tool  string
	// uses reports whether the command downloads dependencies.
	uses func(*Command) bool
	// dirs are path fragments: a cache or tmpfs mount whose target contains one counts.
	dirs []string
	// hint is the mount to suggest.
	hint string
}

// subcommandIn returns a matcher for commands named one of names whose first positional
// argument is one of subs (any positional when anyPositional, as for Maven goals).
func subcommandIn(names []string, subs []string, anyPositional bool, withValue ...string) func(*Command) bool {
	want := map[string]bool{}
	for _, s := range subs {
		want[s] = true
	}
	return func(c *Command) bool {
		if !c.Is(names...) {
			return false
		}
		for _, p := range c.Positionals(withValue...) {
			if c.Name == "cargo" && strings.HasPrefix(p, "+") {
				continue // toolchain selector: cargo +nightly build
			}
			if want[p] {
				return true
			}
			if !anyPositional {
				return false
			}
		}
		return false
	}
}

var depCaches = []depCache{
	{"DL3069", "cargo", subcommandIn([]string{"cargo"}, []string{"build", "install", "fetch", "test", "check", "clippy"}, false),
		[]string{".cargo", "cargo/registry", "cargo/git"}, "--mount=type=cache,target=/usr/local/cargo/registry (or /root/.cargo/registry)"},
	{"DL3070", "go", subcommandIn([]string{"go"}, []string{"build", "get", "install", "test", "mod"}, false, "C"),
		[]string{"go-build", "pkg/mod"}, "--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build"},
	{"DL3071", "Maven", subcommandIn([]string{"mvn", "mvnw"}, []string{"install", "compile", "package", "test", "verify", "deploy", "dependency:resolve", "dependency:go-offline"}, true,
		"f", "file", "s", "settings", "pl", "projects", "P", "activate-profiles", "T", "threads", "rf", "resume-from"),
		[]string{".m2"}, "--mount=type=cache,target=/root/.m2"},
	{"DL3072", "Gradle", func(c *Command) bool { return c.Is("gradle", "gradlew") },
		[]string{".gradle"}, "--mount=type=cache,target=/root/.gradle"},
	{"DL3073", "Composer", subcommandIn([]string{"composer"}, []string{"install", "update", "require"}, false),
		[]string{"composer"}, "--mount=type=cache,target=/root/.composer/cache"},
	{"DL3074", "NuGet", func(c *Command) bool {
		return subcommandIn([]string{"dotnet"}, []string{"restore", "build", "publish", "test"}, false)(c) ||
			subcommandIn([]string{"nuget"}, []string{"restore"}, false)(c)
	}, []string{".nuget"}, "--mount=type=cache,target=/root/.nuget/packages"},
	{"DL3075", "pnpm", subcommandIn([]string{"pnpm"}, []string{"install", "add", "fetch", "i"}, false),
		[]string{"pnpm"}, "--mount=type=cache,target=/root/.local/share/pnpm/store"},
	{"DL3076", "Mix", subcommandIn([]string{"mix"}, []string{"deps.get", "deps.compile", "compile"}, false),
		[]string{".hex", ".mix"}, "--mount=type=cache,target=/root/.hex --mount=type=cache,target=/root/.mix"},
	{"DL3077", "gem/bundler", func(c *Command) bool {
		return subcommandIn([]string{"gem"}, []string{"install"}, false)(c) ||
			subcommandIn([]string{"bundle"}, []string{"install", "update"}, false)(c)
	}, []string{".gem", "bundle"}, "--mount=type=cache,target=/usr/local/bundle"},
}

func checkCacheMounts(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		var targets []string
		for _, m := range parseRunMounts(ins) {
			if m.typ == "cache" || m.typ == "tmpfs" {
				targets = append(targets, m.target)
			}
		}
		cmds := unwrappedCommands(ins)
		for _, dc := range depCaches {
			var hit *Command
			for _, cmd := range cmds {
				if dc.uses(cmd) {
					hit = cmd
					break
				}
			}
			if hit == nil || targetsCover(targets, dc.dirs) {
				continue
			}
			sub := ""
			if p := hit.Positionals(); len(p) > 0 {
				sub = " " + p[0]
			}
			c.ReportAlias(ins, dc.alias, fmt.Sprintf("`%s%s` downloads %s dependencies on every build; add %s", hit.Name, sub, dc.tool, dc.hint))
		}
	}
}

func targetsCover(targets, dirs []string) bool {
	for _, t := range targets {
		for _, d := range dirs {
			if strings.Contains(t, d) {
				return true
			}
		}
	}
	return false
}
