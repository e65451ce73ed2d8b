package dockerfile

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/charterhq/charter/internal/report"
)

// shellChecks are the rules about how RUN uses the shell: cd, sudo, pipefail, commands
// that make no sense in a container, download tools, consecutive RUNs.
var shellChecks = []check{
	{Rule: report.Rule{
		ID:       "DF011",
		Aliases:  []string{"DL3004", "DS-0010", "DKL-DI-0001"},
		Severity: report.High,
		Title:    "sudo in RUN",
		Description: "Build steps already run as the image's current USER, and as root unless a USER says otherwise, so sudo adds nothing but risk. " +
			"Its presence means sudo and a sudoers policy ship in the image, where a compromised process can use them to become root; " +
			"and sudo's environment and TTY handling make build steps behave differently from what the author tested.",
		Remediation: "Drop sudo. To run a step as root after a USER instruction, switch with `USER root` for that step and back to the unprivileged user afterwards; " +
			"to drop privileges at run time use gosu or su-exec in the entrypoint.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3004",
			"https://avd.aquasec.com/misconfig/ds010",
			"https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-di-0001",
		},
		Category: "dockerfile",
		Example:  "USER root\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nUSER app",
	}, run: checkSudo},
	{Rule: report.Rule{
		ID:       "DF150",
		Aliases:  []string{"DL3001"},
		Severity: report.Info,
		Title:    "Command that makes no sense in a container build",
		Description: "Interactive or system-management commands such as ssh, vim, top, ps, free, kill, mount, service or shutdown do nothing useful during a build: " +
			"there is no terminal, no init system and no long-lived process to manage. " +
			"Their presence usually means a step copied from a VM provisioning script, which either does nothing or hides what the image really needs.",
		Remediation: "Remove the command, or replace it with what the build actually needs (start services in the entrypoint, edit files with sed or COPY a prepared file).",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3001"},
		Category:    "dockerfile",
		Example:     "COPY nginx.conf /etc/nginx/nginx.conf\nCMD [\"nginx\", \"-g\", \"daemon off;\"]",
	}, run: checkPointlessCommands},
	{Rule: report.Rule{
		ID:       "DF151",
		Aliases:  []string{"DL3003", "DS-0013"},
		Severity: report.Low,
		Title:    "cd in RUN instead of WORKDIR",
		Description: "A `cd` in RUN only lasts for that one shell, so later instructions silently run somewhere else, and the directory a step depends on is hidden in a command chain. " +
			"WORKDIR sets the directory for every following instruction, creates it if needed and shows up in the image config.",
		Remediation: "Use `WORKDIR /path` before the steps that need it. A `cd` into a scratch directory that the same RUN removes again (or one under /tmp) is not reported: a WORKDIR there would leave the directory in the image.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3003",
			"https://docs.docker.com/build/building/best-practices/#workdir",
		},
		Category: "dockerfile",
		Example:  "WORKDIR /src/app\nRUN make install",
	}, run: checkCd},
	{Rule: report.Rule{
		ID:       "DF152",
		Aliases:  []string{"DL3046"},
		Severity: report.Low,
		Title:    "useradd with a high UID and without -l",
		Description: "useradd records every user in the sparse files /var/log/lastlog and /var/log/faillog, indexed by UID. " +
			"With a UID of 100000 or more those files are gigabytes of zeros that layer tarballs store in full, so the image balloons and pulls slow down.",
		Remediation: "Pass -l (--no-log-init) to useradd when the UID is large: `useradd -l -u 123456 app`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3046",
			"https://github.com/moby/moby/issues/5419",
		},
		Category: "dockerfile",
		Example:  "RUN useradd --no-log-init -u 123456 -r app",
	}, run: checkUseraddLog},
	{Rule: report.Rule{
		ID:       "DF153",
		Aliases:  []string{"DL3047"},
		Severity: report.Low,
		Title:    "wget without --progress",
		Description: "Without a terminal wget prints its progress as one line per few kilobytes, so downloading a large file floods the build log with thousands of lines " +
			"that bury the output that matters and can hit CI log limits.",
		Remediation: "Use `wget --progress=dot:giga URL`, or `wget -q` / `wget -nv` when no progress is wanted.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3047"},
		Category:    "dockerfile",
		Example:     "RUN wget --progress=dot:giga -O /tmp/app.tgz https://example.com/app.tgz",
	}, run: checkWgetProgress},
	{Rule: report.Rule{
		ID:       "DF154",
		Aliases:  []string{"DL3059"},
		Severity: report.Info,
		Title:    "Consecutive single-command RUN instructions",
		Description: "Each RUN adds a layer and a cache step; two RUNs in a row that each run a single command with the same mounts could be one. " +
			"Fewer layers pull faster, and files deleted in the same step never reach the image. " +
			"RUNs that already chain several commands are left alone: splitting them is usually a deliberate caching choice.",
		Remediation: "Merge the commands into one RUN with `&&` (or a heredoc), or keep them apart on purpose and suppress the finding.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3059"},
		Category:    "dockerfile",
		Example:     "RUN ./configure && make && make install",
	}, run: checkConsecutiveRuns},
	{Rule: report.Rule{
		ID:       "DF155",
		Aliases:  []string{"DL4001", "DS-0014"},
		Severity: report.Low,
		Title:    "Both wget and curl used in one stage",
		Description: "wget and curl do the same job; needing both means two download tools (and their libraries and CVEs) in the image where one would do, " +
			"and two sets of TLS, proxy and retry behaviour to reason about.",
		Remediation: "Pick one tool for the stage (curl -fsSL or wget -q) and use it for every download.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL4001",
			"https://avd.aquasec.com/misconfig/ds014",
		},
		Category: "dockerfile",
		Example:  "RUN curl -fsSLo /tmp/a.tgz https://example.com/a.tgz && curl -fsSLo /tmp/b.tgz https://example.com/b.tgz",
	}, run: checkWgetAndCurl},
	{Rule: report.Rule{
		ID:       "DF156",
		Aliases:  []string{"DL4005"},
		Severity: report.Low,
		Title:    "/bin/sh replaced by a symlink instead of SHELL",
		Description: "Relinking /bin/sh to bash changes the shell of every script and package-manager hook in the image, not just the Dockerfile's RUN steps, " +
			"and the change is invisible in the image config. The SHELL instruction changes only what RUN uses and says so.",
		Remediation: "Use `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` instead of `ln -sf /bin/bash /bin/sh`.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL4005"},
		Category:    "dockerfile",
		Example:     "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
	}, run: checkShSymlink},
	{Rule: report.Rule{
		ID:       "DF157",
		Aliases:  []string{"DL4006", "DS-0032"},
		Severity: report.Low,
		Title:    "Pipe in RUN without pipefail",
		Description: "A shell pipeline's status is that of its last command, so `curl URL | tar x` succeeds when the download fails and the build goes on with a broken or empty result. " +
			"With `-o pipefail` the step fails as it should. The default /bin/sh of many images (dash) has no pipefail, so the SHELL has to name bash, zsh or ash.",
		Remediation: "Add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before the RUN (for Alpine, `/bin/ash`), or start the command with `set -o pipefail &&`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL4006",
			"https://docs.docker.com/build/building/best-practices/#using-pipes",
		},
		Category: "dockerfile",
		Example:  "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://example.com/app.tgz | tar -xz -C /opt",
	}, run: checkPipefail},
	{Rule: report.Rule{
		ID:       "DF158",
		Aliases:  []string{"DL4007"},
		Severity: report.Low,
		Title:    "COPY of the whole build context",
		Description: "`COPY . .` copies everything the build context holds: .git, .env files, local configuration, test data and build output, unless a .dockerignore excludes them. " +
			"Secrets leak into a layer, the image grows, and any edit anywhere in the repository invalidates the cache of every later step.",
		Remediation: "Copy only what the image needs (`COPY go.mod go.sum ./`, `COPY src/ ./src/`), and keep a .dockerignore as a safety net.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL4007",
			"https://docs.docker.com/build/concepts/context/#dockerignore-files",
		},
		Category: "dockerfile",
		Example:  "COPY package.json package-lock.json ./\nRUN npm ci\nCOPY src/ ./src/",
	}, run: checkCopyDot},
}

// runsWithOnBuild returns every RUN of the file, ONBUILD triggers included when withOnBuild.
func runsWithOnBuild(f *File, withOnBuild bool) []*Instruction {
	var out []*Instruction
	f.Each(func(ins *Instruction) {
		if ins.Cmd == "RUN" && (withOnBuild || !ins.OnBuild) {
			out = append(out, ins)
		}
	})
	return out
}

// unwrappedCommands returns the commands a RUN executes, with wrappers such as sudo or
// env looked through (`sudo service x start` runs service).
func unwrappedCommands(ins *Instruction) []*Command {
	cmds := ins.Script().Commands
	out := make([]*Command, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, c.Unwrapped())
	}
	return out
}

func checkSudo(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		for _, cmd := range ins.Script().Commands {
			if cmd.Name != "sudo" {
				continue
			}
			what := "a command"
			if inner := cmd.Unwrapped(); inner != cmd {
				what = "`" + inner.Name + "`"
			}
			c.Report(ins, fmt.Sprintf("RUN uses sudo to run %s; build steps already run as root unless a USER says otherwise", what))
			break
		}
	}
}

// pointlessCommands lists commands that have no effect worth having in an image build.
var pointlessCommands = map[string]string{
	"free":     "shows memory of the build container only",
	"kill":     "no process outlives the RUN step",
	"mount":    "mounts do not persist past the RUN step",
	"ps":       "no process outlives the RUN step",
	"service":  "there is no init system; start services in the entrypoint",
	"shutdown": "there is no system to shut down",
	"ssh":      "a build step should not log in elsewhere",
	"top":      "there is no terminal",
	"vim":      "there is no terminal to edit in",
}

func checkPointlessCommands(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		for _, cmd := range unwrappedCommands(ins) {
			if why, ok := pointlessCommands[cmd.Name]; ok {
				c.Report(ins, fmt.Sprintf("`%s` makes no sense in a container build: %s", cmd.Name, why))
				break
			}
		}
	}
}

func checkCd(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		cmds := ins.Script().Commands
		for i, cmd := range cmds {
			if cmd.Name != "cd" {
				continue
			}
			p := cmd.Positionals()
			if len(p) == 0 || returnDir(p[0]) || scratchDir(p[0], cmds[i+1:]) {
				continue
			}
			dir := p[0]
			c.Report(ins, fmt.Sprintf("RUN changes directory with `cd %s`; use WORKDIR so later instructions see the same directory", dir))
			break
		}
	}
}

// returnDir reports whether a cd goes back somewhere rather than into a working directory
// (`cd /`, `cd -`, `cd ..`, or `cd` alone for $HOME).
func returnDir(dir string) bool {
	return dir == "/" || dir == "-" || dir == ".." || dir == "~"
}

// scratchDir reports whether dir is a scratch directory for this step only: under /tmp, or
// removed later in the same RUN (download, build, `rm -rf` the sources). A WORKDIR there
// would leave the directory behind in the image.
func scratchDir(dir string, later []*Command) bool {
	if dir == "/tmp" || strings.HasPrefix(dir, "/tmp/") {
		return true
	}
	for _, c := range later {
		if c.Name != "rm" {
			continue
		}
		for _, p := range c.Positionals() {
			p = strings.TrimSuffix(p, "/")
			if p != "" && (dir == p || strings.HasPrefix(dir, p+"/")) {
				return true
			}
		}
	}
	return false
}

func checkUseraddLog(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		for _, cmd := range unwrappedCommands(ins) {
			if cmd.Name != "useradd" || cmd.HasFlag("l", "no-log-init") {
				continue
			}
			uid, ok := cmd.FlagValue("uid", "u")
			if !ok || len(uid) <= 5 || !isNumericID(uid) {
				continue
			}
			c.Report(ins, fmt.Sprintf("useradd -u %s without -l writes sparse lastlog/faillog files sized by the UID into the layer", uid))
			break
		}
	}
}

func isNumericID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func checkWgetProgress(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		for _, cmd := range unwrappedCommands(ins) {
			if cmd.Name != "wget" || wgetQuiet(cmd) {
				continue
			}
			c.Report(ins, "wget without --progress prints a progress line every few kilobytes into the build log; use --progress=dot:giga, -q or -nv")
			break
		}
	}
}

// wgetQuiet reports whether a wget invocation already keeps its progress out of the log.
func wgetQuiet(cmd *Command) bool {
	if cmd.HasFlag("progress", "q", "quiet", "no-verbose", "o", "output-file", "a", "append-output") {
		return true
	}
	for _, a := range cmd.Args {
		if a == "-nv" {
			return true
		}
	}
	return false
}

// runShape is what makes two RUNs mergeable: their flags (mounts, network, security).
func runShape(ins *Instruction) string {
	flags := append([]string(nil), ins.Flags...)
	sort.Strings(flags)
	return strings.Join(flags, "\x00")
}

func checkConsecutiveRuns(c *Context) {
	var prev *Instruction
	for _, ins := range c.File.Instructions {
		if ins.Cmd != "RUN" {
			prev = nil
			continue
		}
		single := len(ins.Script().Commands) <= 1
		if prev != nil && single && runShape(prev) == runShape(ins) {
			c.Report(ins, fmt.Sprintf("RUN follows the single-command RUN on line %d; merge them with && to save a layer", prev.Line))
		}
		prev = nil
		if single {
			prev = ins
		}
	}
}

func checkWgetAndCurl(c *Context) {
	for _, st := range c.File.Stages {
		for _, onbuild := range []bool{false, true} {
			seen := map[string]bool{}
			var first *Instruction
			for _, ins := range st.Instructions {
				if onbuild {
					ins = ins.Inner
				}
				if ins == nil || ins.Cmd != "RUN" {
					continue
				}
				uses := false
				for _, cmd := range unwrappedCommands(ins) {
					if cmd.Is("curl", "wget") {
						seen[cmd.Name] = true
						uses = true
					}
				}
				if !uses {
					continue
				}
				if first == nil {
					first = ins
				}
				if seen["curl"] && seen["wget"] {
					c.Report(ins, fmt.Sprintf("this stage downloads with both curl and wget (first at line %d); use one tool", first.Line))
				}
			}
		}
	}
}

func checkShSymlink(c *Context) {
	for _, ins := range runsWithOnBuild(c.File, true) {
		for _, cmd := range unwrappedCommands(ins) {
			if cmd.Name != "ln" {
				continue
			}
			p := cmd.Positionals("t", "target-directory", "S", "suffix")
			if len(p) >= 2 && (p[len(p)-1] == "/bin/sh" || p[len(p)-1] == "/usr/bin/sh") {
				c.Report(ins, fmt.Sprintf("RUN replaces %s with a link to %s; use the SHELL instruction instead", p[len(p)-1], p[0]))
				break
			}
		}
	}
}

// shellState is what the rules know about the shell RUN uses in a stage.
type shellState struct {
	// pipefail is true when the SHELL sets -o pipefail, or when the shell is not a POSIX
	// shell (PowerShell, cmd) and the check does not apply.
	pipefail bool
}

var nonPOSIXShells = []string{"pwsh", "powershell", "cmd"}

// shellHasPipefail reads a SHELL instruction's argv.
func shellHasPipefail(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	name := strings.ToLower(path.Base(strings.ReplaceAll(argv[0], `\`, "/")))
	for _, p := range nonPOSIXShells {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch name {
	case "bash", "zsh", "ash", "ksh", "mksh":
	default:
		return false
	}
	cmd := &Command{Name: name, Args: argv[1:]}
	return setsPipefail(cmd)
}

// setsPipefail reports whether a shell or `set` invocation turns pipefail on:
// `-o pipefail`, `-eo pipefail`, `-euxo pipefail`.
func setsPipefail(cmd *Command) bool {
	for i, a := range cmd.Args {
		if a == "pipefail" && i > 0 {
			prev := cmd.Args[i-1]
			if strings.HasPrefix(prev, "-") && !strings.HasPrefix(prev, "--") && strings.HasSuffix(prev, "o") {
				return true
			}
		}
	}
	return false
}

func checkPipefail(c *Context) {
	final := map[*Stage]shellState{}
	for _, st := range c.File.Stages {
		var state shellState
		if st.BaseStage != nil {
			state = final[st.BaseStage] // SHELL is part of the image config a stage inherits
		}
		for _, ins := range st.Instructions {
			switch ins.Cmd {
			case "SHELL":
				state.pipefail = shellHasPipefail(ins.Args)
			case "RUN":
				if state.pipefail {
					continue
				}
				if pipe := unprotectedPipe(ins.Script()); pipe != "" {
					c.Report(ins, fmt.Sprintf("`%s` fails silently when an earlier command of the pipe fails; set SHELL with -o pipefail", pipe))
				}
			}
		}
		final[st] = state
	}
}

// unprotectedPipe returns the first pipeline of the script whose failure a shell without
// pipefail would hide, shown as "a | b", unless the script itself turns pipefail on
// (`set -o pipefail`, `bash -o pipefail -c …`).
func unprotectedPipe(s *Script) string {
	var pipe []*Command
	for _, cmd := range s.Commands {
		if cmd.Is("set", "bash", "zsh", "ash", "ksh", "sh") && setsPipefail(cmd) {
			return ""
		}
		if pipe == nil && len(cmd.Pipeline) > 1 && pipeCanHideFailure(cmd.Pipeline) {
			pipe = cmd.Pipeline
		}
	}
	if pipe == nil {
		return ""
	}
	names := make([]string, len(pipe))
	for i, p := range pipe {
		names[i] = p.Name
	}
	return strings.Join(names, " | ")
}

// pipeCanHideFailure reports whether a command before the last one of a pipeline can
// fail. `echo "$SHA  file" | sha256sum -c -` cannot: echo and printf do not fail, so the
// pipeline's status is already the one that matters.
func pipeCanHideFailure(pipe []*Command) bool {
	for _, c := range pipe[:len(pipe)-1] {
		if !c.Is("echo", "printf", "true", "yes", ":") {
			return true
		}
	}
	return false
}

func checkCopyDot(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "COPY" && ins.Cmd != "ADD" {
			return
		}
		if _, ok := ins.Flag("from"); ok {
			return // copies from a stage or image, not from the build context
		}
		srcs, _ := copyOperands(ins)
		for _, s := range srcs {
			if s == "." || s == "./" {
				c.Report(ins, fmt.Sprintf("%s %s copies the whole build context (.git, .env files, local configuration) into the image", ins.Cmd, s))
				return
			}
		}
	})
}

// copyOperands splits COPY/ADD arguments into sources and destination, without quotes.
// Heredoc sources (<<EOF) are left out.
func copyOperands(ins *Instruction) (srcs []string, dest string) {
	args := ins.Args
	if len(args) < 2 {
		return nil, ""
	}
	for _, a := range args[:len(args)-1] {
		if strings.HasPrefix(a, "<<") {
			continue
		}
		srcs = append(srcs, unquote(a))
	}
	return srcs, unquote(args[len(args)-1])
}
