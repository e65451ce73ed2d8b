package dockerfile

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// cacheRun is what the DF009 checks look at in one RUN.
type cacheRun struct {
	c     *Context
	ins   *Instruction
	cmds  []*Command // unwrapped
	calls []pkgCall
}

func (r *cacheRun) report(aliases []string, msg string) { r.c.ReportWith(r.ins, aliases, msg, "") }

// has reports whether the RUN runs tool with one of verbs.
func (r *cacheRun) has(tool string, verbs ...string) bool {
	for _, call := range r.calls {
		if call.Tool == tool && verbIs(verbs...)(call) {
			return true
		}
	}
	return false
}

func checkCaches(c *Context) {
	chain := finalChain(c.File)
	for _, ins := range pkgRuns(c.File) {
		if !inImage(ins, chain) {
			continue
		}
		r := &cacheRun{c: c, ins: ins, cmds: unwrapAll(ins), calls: pkgCalls(ins, nil)}
		if len(r.calls) == 0 {
			continue
		}
		r.aptLists()
		r.aptArchives()
		r.aptRecommends()
		r.apk()
		r.rpm("yum", []string{"DL3032", "DS-0015"}, "/var/cache/yum")
		r.rpm("dnf", []string{"DL3040", "DS-0019"}, "/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5")
		r.rpm("microdnf", []string{"DL3040", "DS-0027"}, "/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5")
		r.zypper()
		r.pip()
		r.yarn()
	}
}

var aptTools = []string{"apt-get", "apt", "aptitude"}

func (r *cacheRun) aptUpdate() (string, bool) {
	for _, t := range aptTools {
		if r.has(t, "update") {
			return t, true
		}
	}
	return "", false
}

// aptLists: `apt-get update` writes /var/lib/apt/lists (tens of MB) that nothing needs at
// run time.
func (r *cacheRun) aptLists() {
	tool, ok := r.aptUpdate()
	if !ok || removes(r.cmds, "/var/lib/apt/lists") || mountCovers(r.ins, "/var/lib/apt/lists") ||
		r.has("apt-get", "dist-clean") || r.has("apt", "dist-clean") {
		return
	}
	aliases := []string{"DKL-DI-0005"}
	if r.hadolintAptLists() {
		aliases = append([]string{"DL3009"}, aliases...)
	}
	r.report(aliases, tool+" update leaves the package lists in /var/lib/apt/lists in this layer; "+
		"delete them in the same RUN (`rm -rf /var/lib/apt/lists/*`) or mount a cache there")
}

// hadolintAptLists mirrors DL3009: apt-get update, no rm of the lists, no cache mount on
// the lists (or on both /var/lib/apt and /var/cache/apt), in a stage hadolint keeps.
func (r *cacheRun) hadolintAptLists() bool {
	if !r.has("apt-get", "update") || !hadolintKeeps(r.c.File, r.ins) {
		return false
	}
	for _, cmd := range r.cmds {
		if cmd.Name == "rm" && (hasWord(cmd.Args, "-rf") || hasWord(cmd.Args, "/var/lib/apt/lists/*")) {
			return false
		}
	}
	under := func(dir string) bool {
		for _, m := range runMounts(r.ins) {
			if m.Type == "cache" && strings.HasPrefix(m.Target, dir) {
				return true
			}
		}
		return false
	}
	bothApt := under("/var/lib/apt") && under("/var/cache/apt")
	return !under("/var/lib/apt/lists") && !bothApt
}

// aptArchives: Debian and Ubuntu images delete downloaded .debs after each install via
// /etc/apt/apt.conf.d/docker-clean; a build that removes that hook (usually to use a
// cache mount) keeps them unless /var/cache/apt is a mount or `apt-get clean` runs.
func (r *cacheRun) aptArchives() {
	installs := false
	for _, t := range aptTools {
		installs = installs || r.has(t, "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep")
	}
	if !installs || !aptKeepsArchives(r.c.File, r.ins) || mountCovers(r.ins, "/var/cache/apt/archives") ||
		removes(r.cmds, "/var/cache/apt/archives") || r.has("apt-get", "clean", "dist-clean") || r.has("apt", "clean", "dist-clean") {
		return
	}
	var aliases []string
	if r.hadolintAptLists() {
		aliases = []string{"DL3009"}
	}
	r.report(aliases, "/etc/apt/apt.conf.d/docker-clean is disabled, so downloaded .deb files stay in /var/cache/apt/archives; "+
		"mount a cache at /var/cache/apt or run `apt-get clean` in the same RUN")
}

// aptKeepsArchives reports whether docker-clean was removed (or Keep-Downloaded-Packages
// set) in this RUN or an earlier one of the stages it builds on.
func aptKeepsArchives(f *File, ins *Instruction) bool {
	for _, run := range runsUpTo(f, ins) {
		for _, cmd := range unwrapAll(run) {
			if cmd.Name == "rm" && hasWord(cmd.Args, "/etc/apt/apt.conf.d/docker-clean") {
				return true
			}
			if v, ok := echoedAptSetting(cmd, "Keep-Downloaded-Packages"); ok && isTruthy(v) {
				return true
			}
		}
	}
	return false
}

// runsUpTo returns the RUNs (ONBUILD triggers included) of ins's stage chain up to and
// including ins.
func runsUpTo(f *File, ins *Instruction) []*Instruction {
	var chain []*Stage
	for s := ins.Stage; s != nil && len(chain) < len(f.Stages); s = s.BaseStage {
		chain = append([]*Stage{s}, chain...)
	}
	var out []*Instruction
	for _, s := range chain {
		for _, x := range s.Instructions {
			if x.Cmd == "RUN" {
				out = append(out, x)
			}
			if x.Inner != nil && x.Inner.Cmd == "RUN" {
				out = append(out, x.Inner)
			}
			if x == ins || x.Inner == ins {
				return out
			}
		}
	}
	return append(out, ins)
}

// echoedAptSetting finds an APT option written with echo/printf (`echo 'APT::Install-Recommends
// "0";' > /etc/apt/apt.conf.d/…`) and returns its value.
func echoedAptSetting(cmd *Command, key string) (string, bool) {
	if cmd.Name != "echo" && cmd.Name != "printf" {
		return "", false
	}
	for _, a := range cmd.Args {
		_, rest, ok := strings.Cut(a, key)
		if !ok {
			continue
		}
		v := strings.Trim(strings.TrimSpace(rest), "\";'= \\n")
		if i := strings.IndexAny(v, "\";"); i >= 0 {
			v = v[:i]
		}
		return v, true
	}
	return "", false
}

func isTruthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// aptRecommends: without --no-install-recommends apt pulls in every recommended package,
// often doubling what a package costs in size and attack surface.
func (r *cacheRun) aptRecommends() {
	for _, call := range r.calls {
		if (call.Tool != "apt-get" && call.Tool != "apt") || call.Verb != "install" || len(call.Args) == 0 {
			continue
		}
		if call.Cmd.HasFlag("no-install-recommends") || aptOptionOff(call.Cmd, "APT::Install-Recommends") ||
			recommendsOffInConfig(r.c.File, r.ins) {
			continue
		}
		var aliases []string
		if call.Tool == "apt-get" {
			aliases = []string{"DL3015", "DS-0029"}
		}
		r.report(aliases, call.Tool+" install without --no-install-recommends also installs every recommended package; "+
			"add --no-install-recommends and list what is really needed")
	}
}

// aptOptionOff reports an `-o Key=false|0` on the command line.
func aptOptionOff(cmd *Command, key string) bool {
	for _, a := range cmd.Args {
		if v, ok := strings.CutPrefix(a, key+"="); ok && (v == "false" || v == "0") {
			return true
		}
	}
	return false
}

func recommendsOffInConfig(f *File, ins *Instruction) bool {
	for _, run := range runsUpTo(f, ins) {
		for _, cmd := range unwrapAll(run) {
			if v, ok := echoedAptSetting(cmd, "APT::Install-Recommends"); ok && !isTruthy(v) {
				return true
			}
		}
	}
	return false
}

// apk: `apk add` without --no-cache, and `apk update`, keep the package index in
// /var/cache/apk.
func (r *cacheRun) apk() {
	stores, hadolint := false, false
	for _, call := range r.calls {
		if call.Tool != "apk" {
			continue
		}
		switch {
		case call.Verb == "add" && !call.Cmd.HasFlag("no-cache"):
			stores, hadolint = true, true
		case call.Verb == "update":
			stores = true
		}
	}
	if !stores || mountCovers(r.ins, "/var/cache/apk") || mountCovers(r.ins, "/etc/apk/cache") ||
		removes(r.cmds, "/var/cache/apk") || r.has("apk", "cache clean") {
		return
	}
	aliases := []string{"DS-0025", "DKL-DI-0004"}
	if hadolint {
		aliases = append([]string{"DL3019"}, aliases...)
	}
	r.report(aliases, "apk keeps its package index in /var/cache/apk in this layer; "+
		"use `apk add --no-cache` (which also makes `apk update` unnecessary) or mount a cache at /var/cache/apk")
}

// rpm: yum, dnf and microdnf keep metadata and packages under /var/cache until
// `<tool> clean all`.
func (r *cacheRun) rpm(tool string, aliases []string, dirs ...string) {
	if !r.has(tool, "install", "groupinstall", "localinstall", "reinstall", "update", "upgrade", "downgrade", "module install", "distro-sync") {
		return
	}
	if r.has(tool, "clean all") {
		return
	}
	for _, d := range dirs {
		if removes(r.cmds, d) || mountCovers(r.ins, d) {
			return
		}
	}
	if !r.has(tool, "install", "module install") || r.has(tool, "clean packages", "clean metadata", "clean expire-cache", "clean dbcache") {
		aliases = nil // hadolint and Trivy only look at installs, and accept any `clean`
	}
	r.report(aliases, tool+" leaves its metadata and package cache in "+dirs[0]+"; "+
		"end the RUN with `"+tool+" clean all` or mount a cache there")
}

func (r *cacheRun) zypper() {
	if !r.has("zypper", "install", "in", "update", "up", "patch", "dist-upgrade", "dup", "source-install", "si") {
		return
	}
	if r.has("zypper", "clean", "cc") || removes(r.cmds, "/var/cache/zypp") || mountCovers(r.ins, "/var/cache/zypp") {
		return
	}
	var aliases []string
	if r.has("zypper", "install", "in") {
		aliases = []string{"DL3036", "DS-0020"}
	} else if r.has("zypper", "patch", "source-install", "si") {
		aliases = []string{"DS-0020"}
	}
	r.report(aliases, "zypper leaves its package cache in /var/cache/zypp; end the RUN with `zypper clean --all` or mount a cache there")
}

// pip: pip keeps every wheel it downloads or builds in ~/.cache/pip.
func (r *cacheRun) pip() {
	for _, call := range r.calls {
		if call.Tool != "pip" || call.Verb != "install" || call.Cmd.HasFlag("no-cache-dir") || r.pipCacheOff(call) {
			continue
		}
		if r.has("pip", "cache purge") || r.removesPipCache() || r.mountsPipCache() {
			return
		}
		r.report([]string{"DL3042"}, "pip install keeps downloaded and built wheels in ~/.cache/pip; "+
			"add --no-cache-dir, set PIP_NO_CACHE_DIR=1, or mount a cache at /root/.cache/pip")
		return
	}
}

// pipCacheOff reports PIP_NO_CACHE_DIR set to a true value: as a prefix of the command,
// exported earlier in the script, or by ENV/ARG.
func (r *cacheRun) pipCacheOff(call pkgCall) bool {
	const key = "PIP_NO_CACHE_DIR="
	for _, a := range call.Orig.Assigns {
		if v, ok := strings.CutPrefix(a, key); ok {
			return isTruthy(strings.Trim(v, "\"'"))
		}
	}
	if call.Orig.Name == "env" {
		for _, a := range call.Orig.Args {
			if v, ok := strings.CutPrefix(a, key); ok {
				return isTruthy(v)
			}
		}
	}
	if v, ok := exportedVar(r.ins.Script().Source, "PIP_NO_CACHE_DIR"); ok {
		return isTruthy(v)
	}
	v, ok := pkgVarsAt(r.c.File, r.ins)["PIP_NO_CACHE_DIR"]
	return ok && isTruthy(v)
}

// exportedVar finds `export NAME=value` (or `declare -x`) in a script; the last one wins.
func exportedVar(src, name string) (string, bool) {
	if !strings.Contains(src, name) {
		return "", false
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		return "", false
	}
	val, found := "", false
	syntax.Walk(file, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok {
			// sh -c '…export NAME=…': look inside the string too
			if c := callCommand(src, call); c != nil && shellNames[c.Name] {
				if body, ok := c.FlagValue("c"); ok {
					if v, ok := exportedVar(body, name); ok {
						val, found = v, true
					}
				}
			}
			return true
		}
		d, ok := n.(*syntax.DeclClause)
		if !ok || (d.Variant.Value != "export" && d.Variant.Value != "declare") {
			return true
		}
		for _, a := range d.Args {
			if a.Name != nil && a.Name.Value == name && a.Value != nil {
				val, found = wordText(src, a.Value), true
			}
		}
		return true
	})
	return val, found
}

func (r *cacheRun) removesPipCache() bool {
	for _, cmd := range r.cmds {
		if cmd.Name != "rm" {
			continue
		}
		for _, t := range cmd.Positionals() {
			t = strings.TrimSuffix(strings.TrimSuffix(t, "/*"), "/")
			if strings.HasSuffix(t, ".cache/pip") || strings.HasSuffix(t, "/.cache") || t == "~/.cache" {
				return true
			}
		}
	}
	return false
}

func (r *cacheRun) mountsPipCache() bool {
	for _, m := range runMounts(r.ins) {
		if (m.Type == "cache" || m.Type == "tmpfs") && (strings.HasSuffix(m.Target, "/.cache/pip") || strings.HasSuffix(m.Target, "/.cache") || strings.Contains(m.Target, "pip")) {
			return true
		}
	}
	return false
}

// yarn: yarn (v1) keeps every package tarball in its global cache.
func (r *cacheRun) yarn() {
	var hit *pkgCall
	for i, call := range r.calls {
		if call.Tool == "yarn" && verbIs("install", "add", "global add")(call) {
			hit = &r.calls[i]
			break
		}
	}
	if hit == nil || r.has("yarn", "cache clean") {
		return
	}
	for _, m := range runMounts(r.ins) {
		if (m.Type == "cache" || m.Type == "tmpfs") && strings.Contains(m.Target, "yarn") {
			return
		}
	}
	for _, cmd := range r.cmds {
		if cmd.Name == "rm" {
			for _, t := range cmd.Positionals() {
				if strings.Contains(t, ".cache/yarn") || strings.Contains(t, "yarn-cache") {
					return
				}
			}
		}
	}
	var aliases []string
	if hasWord(hit.Cmd.Args, "install") && hadolintKeeps(r.c.File, r.ins) {
		aliases = []string{"DL3060"}
	}
	r.report(aliases, "yarn keeps every downloaded package in its cache; run `yarn cache clean` in the same RUN or mount a cache at /usr/local/share/.cache/yarn")
}
