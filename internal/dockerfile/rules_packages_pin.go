package dockerfile

import (
	"fmt"
	"strings"
)

// pinRule describes how one package manager pins versions: which calls install, which
// operands are packages left unpinned (charter's judgement), and which of those hadolint
// also reports (so the finding carries its DL ID only then).
type pinRule struct {
	alias    string
	installs func(pkgCall) bool
	// unpinned returns the operands charter reports.
	unpinned func(pkgCall) []string
	// hadolint reports whether hadolint's rule fires on the call.
	hadolint func(pkgCall) bool
	hint     string
}

var pinRules = map[string]pinRule{
	"apt-get":  {alias: "DL3008", installs: verbIs("install"), unpinned: unpinnedApt, hadolint: hadolintApt, hint: "pkg=<version>"},
	"apt":      {installs: verbIs("install"), unpinned: unpinnedApt, hint: "pkg=<version>"},
	"aptitude": {installs: verbIs("install"), unpinned: unpinnedApt, hint: "pkg=<version>"},
	"apk":      {alias: "DL3018", installs: verbIs("add"), unpinned: unpinnedApk, hadolint: hadolintApk, hint: "pkg=<version>"},
	"yum":      {alias: "DL3033", installs: verbIs("install", "module install"), unpinned: unpinnedRpm, hadolint: hadolintRpm, hint: "pkg-<version> (modules: name:stream)"},
	"dnf":      {alias: "DL3041", installs: verbIs("install", "module install"), unpinned: unpinnedRpm, hadolint: hadolintRpm, hint: "pkg-<version> (modules: name:stream)"},
	"microdnf": {alias: "DL3041", installs: verbIs("install", "module install"), unpinned: unpinnedRpm, hadolint: hadolintRpm, hint: "pkg-<version> (modules: name:stream)"},
	"zypper":   {alias: "DL3037", installs: verbIs("install", "in"), unpinned: unpinnedZypper, hadolint: hadolintZypper, hint: "pkg=<version> or 'pkg>=<version>'"},
	"pip":      {alias: "DL3013", installs: verbIs("install"), unpinned: unpinnedPip, hadolint: hadolintPip, hint: "pkg==<version>, or a requirements file with pinned versions"},
	"npm":      {alias: "DL3016", installs: verbIs("install", "i", "add", "isntall", "in"), unpinned: unpinnedNpm, hadolint: hadolintNpm, hint: "pkg@<version>"},
	"yarn":     {installs: verbIs("add", "global add"), unpinned: unpinnedNpm, hint: "pkg@<version>"},
	"pnpm":     {installs: verbIs("add", "global add"), unpinned: unpinnedNpm, hint: "pkg@<version>"},
	"gem":      {alias: "DL3028", installs: verbIs("install", "i"), unpinned: unpinnedGem, hadolint: hadolintGem, hint: "gem:<version> or -v <version>"},
	"go":       {alias: "DL3062", installs: verbIs("install", "get", "run"), unpinned: unpinnedGo, hadolint: hadolintGo, hint: "module/path@v1.2.3"},
	"pecl":     {alias: "DL3068", installs: verbIs("install"), unpinned: unpinnedPecl, hadolint: func(c pkgCall) bool { return len(unpinnedPecl(c)) > 0 }, hint: "name-<version>"},
	"cargo":    {installs: verbIs("install"), unpinned: unpinnedCargo, hint: "crate@<version> or --version <version> (--locked for its dependencies)"},
}

func verbIs(verbs ...string) func(pkgCall) bool {
	return func(c pkgCall) bool {
		for _, v := range verbs {
			if c.Verb == v {
				return true
			}
		}
		return false
	}
}

func checkUnpinned(c *Context) {
	for _, ins := range pkgRuns(c.File) {
		vars := func() map[string]string { return pkgVarsAt(c.File, ins) }
		for _, call := range pkgCalls(ins, vars) {
			rule, ok := pinRules[call.Tool]
			if !ok || !rule.installs(call) {
				continue
			}
			loose := rule.unpinned(call)
			if len(loose) == 0 {
				continue
			}
			var aliases []string
			if rule.alias != "" && rule.hadolint(call) {
				aliases = []string{rule.alias}
			}
			c.ReportWith(ins, aliases, fmt.Sprintf("%s %s without a pinned version: %s (pin as %s)",
				call.Tool, call.Verb, listWords(loose, 6), rule.hint), "")
		}
	}
}

// listWords joins up to n words and says how many more there are.
func listWords(words []string, n int) string {
	if len(words) <= n {
		return strings.Join(words, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(words[:n], ", "), len(words)-n)
}

// isLocalPath reports whether an operand names a file or directory rather than a package.
func isLocalPath(p string) bool {
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") ||
		strings.HasPrefix(p, "~/") || p == "." || p == ".."
}

func isURL(p string) bool { return strings.Contains(p, "://") }

func unpinnedApt(c pkgCall) []string {
	var out []string
	for _, p := range c.Args {
		if strings.Contains(p, "=") || strings.Contains(p, "/") || strings.HasSuffix(p, ".deb") || strings.HasPrefix(p, "-") {
			continue
		}
		out = append(out, p)
	}
	return out
}

func hadolintApt(c pkgCall) bool {
	for _, p := range c.Raw {
		if !strings.Contains(p, "=") && !strings.Contains(p, "/") && !strings.HasSuffix(p, ".deb") {
			return true
		}
	}
	return false
}

func unpinnedApk(c pkgCall) []string {
	var out []string
	for _, p := range c.Args {
		if strings.ContainsAny(p, "=~<>") || strings.HasSuffix(p, ".apk") || isLocalPath(p) || isURL(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func hadolintApk(c pkgCall) bool {
	for _, p := range c.Raw {
		if !strings.Contains(p, "=") && !strings.HasSuffix(p, ".apk") {
			return true
		}
	}
	return false
}

// unpinnedRpm: a yum/dnf package is pinned as name-version (a dash followed by a digit),
// a module as name:stream; files, URLs, groups (@group) and capabilities (`perl(Foo)`)
// cannot carry a version.
func unpinnedRpm(c pkgCall) []string {
	var out []string
	for _, p := range c.Args {
		switch {
		case c.Verb == "module install":
			if strings.Contains(p, ":") {
				continue
			}
		case strings.HasSuffix(p, ".rpm") || isLocalPath(p) || isURL(p) || strings.HasPrefix(p, "@") || strings.ContainsAny(p, "()=<>*"):
			continue
		case rpmVersioned(p):
			continue
		}
		out = append(out, p)
	}
	return out
}

func rpmVersioned(p string) bool {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '-' && p[i+1] >= '0' && p[i+1] <= '9' {
			return true
		}
	}
	return false
}

func hadolintRpm(c pkgCall) bool {
	for _, p := range c.Raw {
		if c.Verb == "module install" {
			if !strings.Contains(p, ":") {
				return true
			}
			continue
		}
		if !strings.Contains(p, "-") && !strings.HasSuffix(p, ".rpm") {
			return true
		}
	}
	return false
}

func unpinnedZypper(c pkgCall) []string {
	if t, ok := c.Cmd.FlagValue("t", "type"); ok && t != "package" {
		return nil // patterns, patches and products have no version to pin
	}
	var out []string
	for _, p := range c.Args {
		if strings.ContainsAny(p, "=<>") || strings.HasSuffix(p, ".rpm") || isLocalPath(p) || isURL(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func hadolintZypper(c pkgCall) bool {
	for _, p := range c.Raw {
		if !strings.ContainsAny(p, "=<>") && !strings.HasSuffix(p, ".rpm") {
			return true
		}
	}
	return false
}

var pipVersionOps = []string{"==", ">=", "<=", "!=", "~=", ">", "<"}

// pipPinned: a requirement with a version specifier, a VCS URL at a ref (@tag or @commit
// after the repository path), or a file, directory or archive URL.
func pipPinned(p string) bool {
	for _, op := range pipVersionOps {
		if strings.Contains(p, op) {
			return true
		}
	}
	if vcs, ok := pipVCS(p); ok {
		return vcs
	}
	if strings.HasSuffix(p, ".whl") || strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".zip") {
		return true
	}
	return strings.Contains(p, "/") || p == "."
}

// pipVCS reports, for a git+/hg+/svn+/bzr+ requirement, whether it names a ref.
func pipVCS(p string) (pinned, isVCS bool) {
	for _, pre := range []string{"git+", "hg+", "svn+", "bzr+"} {
		if strings.HasPrefix(p, pre) {
			u, _, _ := strings.Cut(p, "#")
			last := u[strings.LastIndex(u, "/")+1:]
			return strings.Contains(last, "@"), true
		}
	}
	return false, false
}

func unpinnedPip(c pkgCall) []string {
	if c.Cmd.HasFlag("c", "constraint", "no-index") {
		return nil // versions come from the constraints file or a local wheel directory
	}
	var out []string
	for _, p := range c.Args {
		if !pipPinned(p) {
			out = append(out, p)
		}
	}
	return out
}

func hadolintPip(c pkgCall) bool {
	if c.Cmd.HasFlag("c", "constraint", "r", "requirement") || hasWord(c.Cmd.Args, ".") {
		return false
	}
	for _, p := range c.Raw {
		pinned := pipPinned(p)
		if _, vcs := pipVCS(p); vcs {
			pinned = strings.Contains(p, "@")
		}
		if !pinned {
			return true
		}
	}
	return false
}

// npmLoose are dist-tags and ranges that float: `pkg@latest` names no version.
var npmLoose = map[string]bool{"latest": true, "next": true, "*": true, "x": true, "": true}

// npmPinned returns whether a package spec names a version, and whether it does in
// hadolint's eyes (which accepts any `@…`, dist-tags included).
func npmPinned(p string) (charter, hadolint bool) {
	for _, pre := range []string{"git://", "git+ssh://", "git+http://", "git+https://"} {
		if strings.HasPrefix(p, pre) {
			pinned := strings.Contains(p, "#")
			return pinned, pinned
		}
	}
	for _, pre := range []string{"github:", "gitlab:", "bitbucket:"} {
		if strings.HasPrefix(p, pre) {
			return strings.Contains(p, "#"), strings.Contains(p, "@")
		}
	}
	if strings.HasSuffix(p, ".tgz") || strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tar") ||
		isLocalPath(p) || isURL(p) || strings.HasPrefix(p, "file:") {
		return true, true
	}
	name := p
	if strings.HasPrefix(name, "@") {
		_, name, _ = strings.Cut(name, "/")
	}
	if !strings.HasPrefix(p, "@") && strings.Contains(name, "/") {
		return strings.Contains(p, "#"), false // GitHub shorthand user/repo
	}
	_, version, ok := strings.Cut(name, "@")
	return ok && !npmLoose[version], ok
}

func unpinnedNpm(c pkgCall) []string {
	var out []string
	for _, p := range c.Args {
		if ok, _ := npmPinned(p); !ok {
			out = append(out, p)
		}
	}
	return out
}

func hadolintNpm(c pkgCall) bool {
	if c.Verb != "install" {
		return false
	}
	for _, p := range c.Raw {
		if _, ok := npmPinned(p); !ok {
			return true
		}
	}
	return false
}

func unpinnedGem(c pkgCall) []string {
	if c.Cmd.HasFlag("v", "version") {
		return nil
	}
	var out []string
	for _, p := range c.Args {
		if strings.Contains(p, ":") || strings.HasSuffix(p, ".gem") || isLocalPath(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func hadolintGem(c pkgCall) bool { return len(unpinnedGem(c)) > 0 }

// goMeta are package patterns that name the main module or the toolchain, not a download.
var goMeta = map[string]bool{"tool": true, "all": true, "std": true, "cmd": true}

// goLoose are module queries that float.
var goLoose = map[string]bool{"latest": true, "upgrade": true, "patch": true, "master": true, "main": true, "HEAD": true}

// goOperands returns what go install/get/run fetch: for run only the package (the rest are
// the program's arguments), minus local paths and meta patterns.
func goOperands(c pkgCall) []string {
	ops := c.Args
	if c.Verb == "run" {
		ops = nil
		for _, a := range c.Raw {
			if !strings.HasPrefix(a, "-") {
				ops = []string{a}
				break
			}
		}
	}
	var out []string
	for _, p := range ops {
		first, _, hasSlash := strings.Cut(p, "/")
		if isLocalPath(p) || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".go") || goMeta[p] ||
			(hasSlash && !strings.Contains(first, ".")) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func unpinnedGo(c pkgCall) []string {
	var out []string
	for _, p := range goOperands(c) {
		if _, v, ok := strings.Cut(p, "@"); ok && !goLoose[v] {
			continue // a version, or @none (removal)
		}
		out = append(out, p)
	}
	return out
}

func hadolintGo(c pkgCall) bool {
	for _, p := range goOperands(c) {
		if _, v, ok := strings.Cut(p, "@"); !ok || v == "latest" {
			return true
		}
	}
	return false
}

func unpinnedCargo(c pkgCall) []string {
	if c.Cmd.HasFlag("version", "vers", "path", "rev", "tag") {
		return nil
	}
	var out []string
	for _, p := range c.Args {
		if strings.Contains(p, "@") || isLocalPath(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// unpinnedPecl returns the PECL packages installed without a version: `redis`, and
// `redis-stable` (a stability state, not a version). `redis-6.1.0`, a channel-qualified
// `pecl.php.net/redis-6.1.0`, local archives, package.xml files and URLs are pinned.
func unpinnedPecl(c pkgCall) []string {
	var out []string
	for _, p := range c.Args {
		if isLocalPath(p) || strings.Contains(p, "://") && !strings.HasPrefix(p, "channel://") ||
			strings.HasSuffix(p, ".tgz") || strings.HasSuffix(p, ".tar") || strings.HasSuffix(p, ".xml") {
			continue
		}
		name := p[strings.LastIndexByte(p, '/')+1:]
		if i := strings.LastIndexByte(name, '-'); i > 0 && i+1 < len(name) && name[i+1] >= '0' && name[i+1] <= '9' {
			continue
		}
		out = append(out, p)
	}
	return out
}
