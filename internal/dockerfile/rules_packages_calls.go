package dockerfile

import (
	"path"
	"strings"
)

// pkgCall is one package-manager command found in a RUN: which tool, which verb, and the
// operands (package names, files, module paths) with flags and flag values removed.
type pkgCall struct {
	// Cmd is the command as run, wrappers such as sudo or env looked through. For
	// `python -m pip …` it is the pip part.
	Cmd *Command
	// Orig is the command as written, wrapper and VAR=value prefixes included.
	Orig *Command
	// Tool is the package manager: apt-get, apt, aptitude, apk, yum, dnf, microdnf,
	// zypper, pip, npm, yarn, pnpm, gem, go, cargo, pecl.
	Tool string
	// Verb is the subcommand: install, add, remove, update, clean… For dnf/yum modules it
	// is "module install"; for `yarn global add` it is "global add"; a bare `yarn` is "install".
	Verb string
	// Raw are the operands as written (after the verb).
	Raw []string
	// Args are the operands with `$VAR` words replaced by their known ARG/ENV values
	// (split into words); a word whose value is unknown is left out and Unresolved is set.
	Args       []string
	Unresolved bool
	// Index orders the calls within the script.
	Index int
}

// valueFlags lists, per tool, the options that take their value as the next word, so the
// value is not mistaken for a package (`apk add --virtual .deps gcc`, `apt-get -t bookworm-backports`).
var valueFlags = map[string][]string{
	"apt-get":  {"o", "option", "c", "config-file", "t", "target-release", "default-release", "a", "host-architecture"},
	"apk":      {"X", "repository", "t", "virtual", "p", "root", "repositories-file", "keys-dir", "arch", "cache-dir", "cache-max-age", "timeout", "wait"},
	"yum":      {"c", "config", "d", "debuglevel", "e", "errorlevel", "x", "exclude", "enablerepo", "disablerepo", "setopt", "installroot", "releasever", "repo", "repoid", "repofrompath", "downloaddir", "destdir", "forcearch", "R", "rpmverbosity"},
	"zypper":   {"r", "repo", "from", "t", "type", "root", "R", "reposd-dir", "D", "cache-dir", "C", "raw-cache-dir", "solv-cache-dir", "pkg-cache-dir", "c", "config", "download"},
	"pip":      {"abi", "b", "build", "c", "constraint", "e", "editable", "extra-index-url", "f", "find-links", "i", "index-url", "implementation", "no-binary", "only-binary", "platform", "prefix", "progress-bar", "proxy", "python-version", "r", "requirement", "root", "src", "t", "target", "trusted-host", "upgrade-strategy", "cert", "client-cert", "cache-dir", "log", "timeout", "retries", "exists-action", "global-option", "install-option", "config-settings", "C", "report", "python", "use-feature", "root-user-action", "keyring-provider", "group"},
	"npm":      {"loglevel", "registry", "prefix", "cache", "userconfig", "globalconfig", "tag", "w", "workspace", "omit", "include", "install-strategy", "C", "otp", "scope", "install-links", "fetch-retries", "fetch-timeout", "network-timeout"},
	"yarn":     {"cwd", "cache-folder", "modules-folder", "network-timeout", "mutex", "registry", "global-folder", "link-folder", "prefix", "network-concurrency"},
	"pnpm":     {"C", "dir", "filter", "F", "store-dir", "registry", "reporter", "w", "workspace-root"},
	"gem":      {"v", "version", "i", "install-dir", "n", "bindir", "s", "source", "p", "http-proxy", "platform", "P", "trust-policy", "g", "file", "build-root", "target-rbconfig", "document"},
	"go":       {"ldflags", "gcflags", "asmflags", "gccgoflags", "tags", "o", "mod", "modfile", "p", "pkgdir", "toolexec", "overlay", "pgo", "C", "exec", "buildmode", "compiler", "installsuffix", "coverpkg", "covermode", "modcacherw", "reflags"},
	"cargo":    {"version", "vers", "git", "branch", "tag", "rev", "path", "root", "index", "registry", "features", "F", "target", "target-dir", "j", "jobs", "profile", "bin", "example", "config", "Z", "color"},
	"aptitude": {"o", "t", "target-release", "default-release", "F", "display-format", "w", "width"},
}

// valueFlagSets indexes valueFlags once, so parsing a command allocates no lookup table.
var valueFlagSets = func() map[string]map[string]bool {
	sets := map[string]map[string]bool{}
	for tool, names := range valueFlags {
		set := map[string]bool{}
		for _, n := range names {
			set[n] = true
		}
		sets[tool] = set
	}
	return sets
}()

// operands returns the command's positional words; options named in takes consume the
// next word as their value (`-t bookworm-backports`), and everything after "--" is positional.
func operands(c *Command, takes map[string]bool) []string {
	out := make([]string, 0, len(c.Args))
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a == "--" {
			return append(out, c.Args[i+1:]...)
		}
		if len(a) > 1 && a[0] == '-' {
			name := strings.TrimLeft(a, "-")
			if takes[name] && !strings.Contains(name, "=") {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// pkgTool maps a command name to its package-manager family; "" when it is none.
func pkgTool(name string) string {
	switch name {
	case "apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "zypper", "npm", "yarn", "pnpm", "gem", "go", "cargo", "pecl":
		return name
	case "dnf5", "dnf-3":
		return "dnf"
	}
	if isPipName(name) {
		return "pip"
	}
	return ""
}

// isPipName reports whether name is pip itself: pip, pip3, pip3.12 (not pipx or pipenv).
func isPipName(name string) bool {
	rest, ok := strings.CutPrefix(name, "pip")
	if !ok {
		return false
	}
	return strings.Trim(rest, "0123456789.") == ""
}

// isPythonName reports whether name runs a Python interpreter: python, python3, python3.12.
func isPythonName(name string) bool {
	rest, ok := strings.CutPrefix(name, "python")
	return ok && strings.Trim(rest, "0123456789.") == ""
}

// asPip turns `python -m pip …` (and `uv pip …`) into the pip command it runs.
func asPip(c *Command) *Command {
	switch {
	case isPythonName(c.Name):
		for i, a := range c.Args {
			if a == "-m" && i+1 < len(c.Args) && isPipName(c.Args[i+1]) {
				return &Command{Name: "pip", Args: c.Args[i+2:], Pipeline: c.Pipeline, Assigns: c.Assigns, Line: c.Line}
			}
			if a == "-mpip" {
				return &Command{Name: "pip", Args: c.Args[i+1:], Pipeline: c.Pipeline, Assigns: c.Assigns, Line: c.Line}
			}
			if !strings.HasPrefix(a, "-") {
				return nil
			}
		}
	case c.Name == "uv" && len(c.Args) > 0 && c.Args[0] == "pip":
		return &Command{Name: "pip", Args: c.Args[1:], Pipeline: c.Pipeline, Assigns: c.Assigns, Line: c.Line}
	}
	return nil
}

// pkgCalls returns the package-manager commands a RUN executes, in order. vars resolves
// `$NAME` operands (nil: none are resolved); it is called at most once.
func pkgCalls(ins *Instruction, vars func() map[string]string) []pkgCall {
	if vars != nil {
		var known map[string]string
		lookup := vars
		vars = func() map[string]string {
			if known == nil {
				known = lookup()
			}
			return known
		}
	}
	var out []pkgCall
	for i, raw := range ins.Script().Commands {
		c := raw
		tool := pkgTool(c.Name)
		if tool == "" {
			c = raw.Unwrapped()
			if p := asPip(c); p != nil {
				c = p
			}
			if tool = pkgTool(c.Name); tool == "" {
				continue
			}
		}
		call := pkgCall{Cmd: c, Orig: raw, Tool: tool, Index: i}
		pos := operands(c, valueFlagSets[flagTable(tool)])
		if tool == "gem" || tool == "cargo" {
			pos = gemOperands(c, tool)
		}
		call.Verb, call.Raw = splitVerb(tool, pos)
		if tool == "yarn" && len(pos) == 0 && c.HasFlag("v", "version", "h", "help") {
			call.Verb = "" // `yarn --version` is not an install
		}
		call.Args, call.Unresolved = expandOperands(call.Raw, vars)
		if call.Verb != "" && call.Verb != "update" && simulates(call) {
			call.Verb = "simulate " + call.Verb // changes nothing: no rule applies
		}
		if out == nil {
			out = make([]pkgCall, 0, 2)
		}
		out = append(out, call)
	}
	return out
}

// simulates reports a dry run: `apt-get install -s`, `yum install --assumeno`, `pip install --dry-run`.
func simulates(c pkgCall) bool {
	switch c.Tool {
	case "apt-get", "apt", "aptitude":
		return c.Cmd.HasFlag("s", "simulate", "just-print", "dry-run", "recon", "no-act", "print-uris")
	case "yum", "dnf", "microdnf":
		return c.Cmd.HasFlag("assumeno")
	case "zypper", "pip", "npm":
		return c.Cmd.HasFlag("dry-run")
	}
	return false
}

func flagTable(tool string) string {
	switch tool {
	case "apt":
		return "apt-get"
	case "dnf", "microdnf":
		return "yum"
	}
	return tool
}

// splitVerb separates the subcommand from the operands. Two-word verbs (`module install`,
// `global add`, `cache clean`, `clean all`) keep both words in the verb.
func splitVerb(tool string, pos []string) (string, []string) {
	if len(pos) == 0 {
		if tool == "yarn" {
			return "install", nil
		}
		return "", nil
	}
	verb, rest := pos[0], pos[1:]
	two := false
	switch tool {
	case "yum", "dnf", "microdnf":
		two = verb == "module" || verb == "clean"
	case "yarn", "pnpm":
		two = verb == "global" || verb == "cache"
	case "npm", "pip":
		two = verb == "cache"
	case "apk":
		two = verb == "cache"
	}
	if two && len(rest) > 0 {
		return verb + " " + rest[0], rest[1:]
	}
	return verb, rest
}

// gemOperands returns gem's (or cargo's) positionals: words after `--` are build options,
// and an option gem does not know as a switch takes the next word as its value.
func gemOperands(c *Command, tool string) []string {
	takes := valueFlagSets[tool]
	var out []string
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takes[name] || (strings.HasPrefix(a, "--") && !gemSwitches[name] && tool == "gem") {
			i++
		}
	}
	return out
}

// gemSwitches are gem install options that take no value.
var gemSwitches = map[string]bool{
	"no-document": true, "no-ri": true, "no-rdoc": true, "user-install": true, "no-user-install": true,
	"force": true, "no-force": true, "conservative": true, "minimal-deps": true, "prerelease": true,
	"pre": true, "ignore-dependencies": true, "development": true, "development-all": true,
	"both": true, "local": true, "remote": true, "clear-sources": true, "verbose": true,
	"quiet": true, "silent": true, "no-wrappers": true, "wrappers": true, "env-shebang": true,
	"no-env-shebang": true, "norc": true, "backtrace": true, "debug": true, "system": true,
	"default": true, "explain": true, "lock": true, "no-lock": true, "suggestions": true,
	"no-suggestions": true, "post-install-message": true, "no-post-install-message": true,
	"vendor": true, "format-executable": true, "no-format-executable": true, "update-sources": true,
}

// expandOperands replaces `$NAME`/`${NAME}` words with the words of their value. Words
// from command substitution, or variables with no known value, are dropped and reported.
func expandOperands(raw []string, vars func() map[string]string) ([]string, bool) {
	plain := true
	for _, w := range raw {
		if strings.ContainsAny(w, "$`") {
			plain = false
			break
		}
	}
	if plain {
		return raw, false // shared with Raw; neither is modified
	}
	var out []string
	unresolved := false
	var known map[string]string
	for _, w := range raw {
		if !strings.Contains(w, "$") && !strings.Contains(w, "`") {
			out = append(out, w)
			continue
		}
		name, ok := plainVar(w)
		if !ok {
			if strings.HasPrefix(w, "$(") || strings.HasPrefix(w, "`") || strings.HasPrefix(w, "$") {
				unresolved = true
				continue
			}
			out = append(out, w) // name=$VERSION and the like: the shape is what matters
			continue
		}
		if known == nil && vars != nil {
			known = vars()
		}
		v, ok := known[name]
		if !ok {
			unresolved = true
			continue
		}
		out = append(out, strings.Fields(v)...)
	}
	return out, unresolved
}

// plainVar returns NAME for a word that is exactly `$NAME` or `${NAME}`.
func plainVar(w string) (string, bool) {
	switch {
	case strings.HasPrefix(w, "${") && strings.HasSuffix(w, "}"):
		w = w[2 : len(w)-1]
	case strings.HasPrefix(w, "$"):
		w = w[1:]
	default:
		return "", false
	}
	if w == "" {
		return "", false
	}
	for i, r := range w {
		letter := r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
		digit := i > 0 && r >= '0' && r <= '9'
		if !letter && !digit {
			return "", false
		}
	}
	return w, true
}

// pkgVarsAt returns the ARG and ENV values visible to ins: ENV inherited from the stages
// it builds on, and ARG/ENV declared earlier in its own stage (a bare `ARG NAME` takes the
// global default). Build-time overrides are unknown, so defaults stand in for them.
func pkgVarsAt(f *File, ins *Instruction) map[string]string {
	vars := map[string]string{}
	st := ins.Stage
	if st == nil {
		return vars
	}
	var chain []*Stage
	for s := st; s != nil && len(chain) < len(f.Stages); s = s.BaseStage {
		chain = append(chain, s)
	}
	var global map[string]string
	for i := len(chain) - 1; i >= 0; i-- {
		s := chain[i]
		own := s == st
		for _, x := range s.Instructions {
			if own && (x == ins || x.Inner == ins) {
				break
			}
			switch x.Cmd {
			case "ENV":
				for _, kv := range EnvPairs(x) {
					vars[kv.Key] = f.Expand(kv.Value, vars)
				}
			case "ARG":
				if !own {
					continue
				}
				for _, kv := range ArgPairs(x) {
					if kv.HasValue {
						vars[kv.Key] = f.Expand(kv.Value, vars)
						continue
					}
					if global == nil {
						global = f.GlobalArgs()
					}
					if g, ok := global[kv.Key]; ok {
						vars[kv.Key] = g
					}
				}
			}
		}
	}
	return vars
}

// pkgRuns returns every RUN of the file in order, ONBUILD triggers included.
func pkgRuns(f *File) []*Instruction {
	var out []*Instruction
	f.Each(func(ins *Instruction) {
		if ins.Cmd == "RUN" {
			out = append(out, ins)
		}
	})
	return out
}

// finalChain returns the final stage and every stage it is built FROM: what ends up in
// the image `docker build` produces.
func finalChain(f *File) map[*Stage]bool {
	chain := map[*Stage]bool{}
	for s := f.Final(); s != nil && !chain[s]; s = s.BaseStage {
		chain[s] = true
	}
	return chain
}

// inImage reports whether what ins leaves on disk reaches the final image: its stage is
// in the final chain, or it is an ONBUILD trigger (which runs in whatever image builds on
// this one).
func inImage(ins *Instruction, chain map[*Stage]bool) bool {
	return ins.OnBuild || chain[ins.Stage]
}

// hadolintKeeps mirrors which stages hadolint treats as kept for its cache rules: the
// last stage, or a named stage a later FROM builds on.
func hadolintKeeps(f *File, ins *Instruction) bool {
	if ins.OnBuild || ins.Stage == nil || ins.Stage == f.Final() {
		return true
	}
	for _, s := range f.Stages[ins.Stage.Index+1:] {
		if s.BaseStage == ins.Stage {
			return true
		}
	}
	return false
}

// runMount is one RUN --mount.
type runMount struct{ Type, Target string }

func runMounts(ins *Instruction) []runMount {
	var out []runMount
	for _, v := range ins.FlagValues("mount") {
		m := runMount{Type: "bind"}
		for _, field := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(field, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				m.Type = strings.ToLower(val)
			case "target", "dst", "destination":
				m.Target = path.Clean(val)
			}
		}
		out = append(out, m)
	}
	return out
}

// mountCovers reports whether a cache or tmpfs mount holds dir, so nothing written there
// stays in the layer.
func mountCovers(ins *Instruction, dir string) bool {
	for _, m := range runMounts(ins) {
		if (m.Type == "cache" || m.Type == "tmpfs") && m.Target != "" && pathWithin(dir, m.Target) {
			return true
		}
	}
	return false
}

// pathWithin reports whether p is dir or below it.
func pathWithin(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// removes reports whether the script deletes dir (or everything in it) with rm or find -delete.
func removes(cmds []*Command, dir string) bool {
	for _, c := range cmds {
		switch c.Name {
		case "rm":
			for _, t := range c.Positionals() {
				if cleansDir(t, dir) {
					return true
				}
			}
		case "find":
			pos := c.Positionals()
			if len(pos) > 0 && cleansDir(pos[0], dir) && (hasWord(c.Args, "-delete") || hasWord(c.Args, "rm")) {
				return true
			}
		}
	}
	return false
}

// cleansDir reports whether deleting target empties dir: target is dir, its contents
// (`dir/*`), a parent of dir, or a file pattern inside it.
func cleansDir(target, dir string) bool {
	t := strings.TrimSuffix(target, "/")
	for strings.HasSuffix(t, "/*") || strings.HasSuffix(t, "/.") {
		t = t[:len(t)-2]
	}
	if t == "" {
		return false
	}
	return pathWithin(dir, t) || strings.HasPrefix(t, dir+"/")
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// unwrapAll returns the script's commands with wrappers looked through.
func unwrapAll(ins *Instruction) []*Command {
	cmds := ins.Script().Commands
	out := make([]*Command, len(cmds))
	for i, c := range cmds {
		out[i] = c.Unwrapped()
	}
	return out
}
