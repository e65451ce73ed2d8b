package dockerfile

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// osInstall is one OS package install in the final image's stages and what it left.
type osInstall struct {
	ins     *Instruction
	tool    string
	virtual string          // apk --virtual name
	left    map[string]bool // packages of interest not removed (yet)
	order   []string
}

// osPackages walks the stages that make up the final image, in build order, and returns
// the OS package installs whose packages match want, minus those removed later (apt-get
// purge/remove, apk del, yum/dnf remove, zypper rm, or apt-mark auto + autoremove).
func osPackages(f *File, want func(tool, pkg string) bool) []*osInstall {
	chain := finalChain(f)
	var out []*osInstall
	for _, st := range f.Stages {
		if !chain[st] {
			continue
		}
		for _, x := range st.Instructions {
			ins := x
			if x.Inner != nil {
				ins = x.Inner
			}
			if ins.Cmd != "RUN" {
				continue
			}
			out = append(out, osPackagesOf(f, ins, want, out)...)
		}
	}
	kept := out[:0]
	for _, in := range out {
		if len(in.left) > 0 {
			kept = append(kept, in)
		}
	}
	return kept
}

var osTools = map[string]bool{"apt-get": true, "apt": true, "aptitude": true, "apk": true, "yum": true, "dnf": true, "microdnf": true, "zypper": true}

func osPackagesOf(f *File, ins *Instruction, want func(tool, pkg string) bool, earlier []*osInstall) []*osInstall {
	var mine []*osInstall
	vars := func() map[string]string { return pkgVarsAt(f, ins) }
	for _, call := range pkgCalls(ins, vars) {
		if !osTools[call.Tool] {
			continue
		}
		switch {
		case verbIs("install", "add", "in", "groupinstall")(call):
			in := &osInstall{ins: ins, tool: call.Tool, left: map[string]bool{}}
			if call.Tool == "apk" {
				in.virtual, _ = call.Cmd.FlagValue("t", "virtual")
			}
			for _, p := range call.Args {
				name := pkgBaseName(call.Tool, p)
				if want(call.Tool, name) && !in.left[name] {
					in.left[name] = true
					in.order = append(in.order, name)
				}
			}
			mine = append(mine, in)
		case verbIs("remove", "purge", "del", "erase", "rm", "autoremove")(call):
			all := append(append([]*osInstall(nil), earlier...), mine...)
			for _, p := range call.Args {
				name := pkgBaseName(call.Tool, p)
				for _, in := range all {
					if in.virtual != "" && in.virtual == p {
						in.left = map[string]bool{}
					}
					delete(in.left, name)
				}
			}
		}
	}
	if len(mine) > 0 && aptAutoremovesAll(ins) {
		for _, in := range mine {
			in.left = map[string]bool{}
		}
	}
	return mine
}

// aptAutoremovesAll recognises the official-image idiom that removes everything the RUN
// installed: `apt-mark auto '.*'` … `apt-get purge -y --auto-remove`.
func aptAutoremovesAll(ins *Instruction) bool {
	marks, removes := false, false
	for _, raw := range ins.Script().Commands {
		c := raw
		switch c.Name {
		case "apt-mark", "apt-get", "apt":
		case "xargs": // apt-mark showmanual | xargs apt-mark auto
			if pos := operands(c, xargsValueFlags); len(pos) > 0 {
				c = &Command{Name: path.Base(pos[0]), Args: pos[1:]}
			}
		default:
			c = raw.Unwrapped()
		}
		switch c.Name {
		case "apt-mark":
			marks = marks || firstOperand(c, nil) == "auto"
		case "apt-get", "apt":
			switch firstOperand(c, valueFlagSets["apt-get"]) {
			case "autoremove":
				removes = true
			case "purge", "remove":
				removes = removes || c.HasFlag("auto-remove", "autoremove")
			}
		}
	}
	return marks && removes
}

var xargsValueFlags = map[string]bool{"I": true, "n": true, "P": true, "d": true, "a": true, "E": true, "L": true, "s": true}

// firstOperand is the first word of c that is not an option (or an option's value).
func firstOperand(c *Command, takes map[string]bool) string {
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if len(a) > 1 && a[0] == '-' {
			if takes[strings.TrimLeft(a, "-")] {
				i++
			}
			continue
		}
		return a
	}
	return ""
}

// pkgBaseName strips a version from a package operand: gcc=4:12.2, gcc~12, gcc>=12,
// and for rpm tools gcc-12.2.1.
func pkgBaseName(tool, p string) string {
	if i := strings.IndexAny(p, "=~<>"); i > 0 {
		p = p[:i]
	}
	switch tool {
	case "yum", "dnf", "microdnf", "zypper":
		for i := 0; i+1 < len(p); i++ {
			if p[i] == '-' && p[i+1] >= '0' && p[i+1] <= '9' {
				return p[:i]
			}
		}
	}
	return p
}

// buildToolNames are compilers, build systems and toolchain packages across distributions.
var buildToolNames = map[string]bool{
	"gcc": true, "g++": true, "gcc-c++": true, "cpp": false, "make": true, "cmake": true, "build-essential": true,
	"build-base": true, "alpine-sdk": true, "clang": true, "llvm": true, "golang": true, "golang-go": true, "go": true,
	"rustc": true, "cargo": true, "rust": true, "gfortran": true, "autoconf": true, "automake": true, "libtool": true,
	"linux-headers": true, "kernel-headers": true, "kernel-devel": true, "ninja-build": true, "ninja": true,
	"meson": true, "nasm": true, "yasm": true, "bison": true, "pkg-config": true, "pkgconf": true,
	"Development Tools": true, "@development-tools": true, "devtoolset": true, "maven": true, "gradle": true,
	"default-jdk": true, "default-jdk-headless": true,
}

// isBuildTool reports whether a package is a compiler, build tool or development files.
func isBuildTool(_ string, name string) bool {
	if v, ok := buildToolNames[name]; ok {
		return v
	}
	for _, pre := range []string{"gcc-", "g++-", "clang-", "golang-1.", "llvm-", "devtoolset-", "gcc-toolset-"} {
		if rest, ok := strings.CutPrefix(name, pre); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			return true
		}
	}
	for _, suf := range []string{"-dev", "-devel", "-headers", "-jdk", "-jdk-headless"} {
		if strings.HasSuffix(name, suf) && len(name) > len(suf) {
			return true
		}
	}
	return false
}

// toolchainImages are base images that are themselves build toolchains.
var toolchainImages = map[string]bool{"golang": true, "rust": true, "gcc": true, "buildpack-deps": true, "maven": true, "gradle": true}

func checkBuildTools(c *Context) {
	f := c.File
	if final := f.Final(); final != nil {
		root := final.Root()
		ref := ParseImageRef(root.BaseExpanded)
		name := path.Base(ref.Name)
		// buildpack-deps:<suite>-curl and -scm are the variants without compilers
		slim := name == "buildpack-deps" && (strings.HasSuffix(ref.Tag, "-curl") || strings.HasSuffix(ref.Tag, "-scm") || ref.Tag == "curl" || ref.Tag == "scm")
		if toolchainImages[name] && !slim || strings.HasSuffix(ref.Name, "dotnet/sdk") || strings.HasSuffix(ref.Name, "dotnet/core/sdk") {
			c.Report(root.From, fmt.Sprintf("the final image is built on %s, a full build toolchain; "+
				"build in an earlier stage and copy only the result into a runtime or distroless image", root.BaseExpanded))
		}
	}
	for _, in := range osPackages(f, isBuildTool) {
		c.Report(in.ins, fmt.Sprintf("%s installs build tools that stay in the final image: %s; "+
			"build in an earlier stage, or remove them in the same RUN (apt-get purge --auto-remove, apk del)",
			in.tool, listWords(in.order, 6)))
	}
}

// sshServerPackages install an SSH daemon.
var sshServerPackages = map[string]bool{"openssh-server": true, "dropbear": true, "tinysshd": true, "tinyssh": true}

func isSSHServer(tool, name string) bool {
	if sshServerPackages[name] {
		return true
	}
	switch tool {
	case "apk", "zypper":
		return name == "openssh"
	case "apt-get", "apt", "aptitude":
		return name == "ssh"
	}
	return false
}

func checkSSH(c *Context) {
	f := c.File
	chain := finalChain(f)
	f.Each(func(ins *Instruction) {
		if !inImage(ins, chain) {
			return
		}
		switch ins.Cmd {
		case "EXPOSE":
			checkExpose22(c, ins)
		case "CMD", "ENTRYPOINT":
			for _, w := range strings.Fields(strings.Join(ins.Args, " ")) {
				if path.Base(strings.Trim(w, "\"'")) == "sshd" {
					c.ReportWith(ins, nil, ins.Cmd+" starts sshd: the container runs an SSH server; use `docker exec`/`kubectl exec` for access instead", "")
					return
				}
			}
		}
	})
	for _, in := range osPackages(f, isSSHServer) {
		c.ReportWith(in.ins, nil, fmt.Sprintf("%s installs an SSH server (%s) in the final image; "+
			"containers are reached with `docker exec`/`kubectl exec`, not SSH", in.tool, listWords(in.order, 4)), "")
	}
}

func checkExpose22(c *Context, ins *Instruction) {
	var vars map[string]string
	for _, arg := range ins.Args {
		words := []string{arg}
		if strings.Contains(arg, "$") {
			if vars == nil {
				vars = pkgVarsAt(c.File, ins)
			}
			words = strings.Fields(c.File.Expand(arg, vars))
		}
		for _, w := range words {
			if !portSpecHas(w, 22) {
				continue
			}
			var aliases []string
			switch arg {
			case "22", "22/tcp", "22/udp":
				aliases = []string{"DS-0004"}
			}
			c.ReportWith(ins, aliases, fmt.Sprintf("EXPOSE %s publishes the SSH port 22; containers are reached with `docker exec`/`kubectl exec`, not SSH", arg), "")
			return
		}
	}
}

// portSpecHas reports whether an EXPOSE word (22, 22/tcp, 20-25/udp) includes port.
func portSpecHas(spec string, port int) bool {
	spec, _, _ = strings.Cut(spec, "/")
	lo, hi, isRange := strings.Cut(spec, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		return false
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(hi); err != nil {
			return false
		}
	}
	return a <= port && port <= b
}
