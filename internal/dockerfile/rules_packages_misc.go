package dockerfile

import (
	"fmt"
	"strings"
)

// promptRule says which verbs of a package manager ask for confirmation, how the prompt is
// turned off, and which peer rules cover which verbs.
type promptRule struct {
	verbs    []string
	yes      func(*Command) bool
	aliased  []string // verbs the peer rules look at
	aliases  []string
	switchIs string
}

var promptRules = map[string]promptRule{
	"apt-get": {
		verbs: []string{"install", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge", "autoremove", "build-dep"},
		yes:   aptAssumesYes, aliased: []string{"install"}, aliases: []string{"DL3014", "DS-0021"}, switchIs: "-y",
	},
	"apt": {
		verbs: []string{"install", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge", "autoremove"},
		yes:   aptAssumesYes, switchIs: "-y",
	},
	"yum": {
		verbs: []string{"install", "groupinstall", "localinstall", "reinstall", "update", "upgrade", "downgrade", "remove", "erase", "module install"},
		yes:   func(c *Command) bool { return c.HasFlag("y", "assumeyes") }, aliased: []string{"install", "groupinstall", "localinstall"},
		aliases: []string{"DL3030"}, switchIs: "-y",
	},
	"dnf": {
		verbs: []string{"install", "groupinstall", "localinstall", "reinstall", "update", "upgrade", "downgrade", "remove", "erase", "module install"},
		yes:   func(c *Command) bool { return c.HasFlag("y", "assumeyes") }, aliased: []string{"install", "groupinstall", "localinstall"},
		aliases: []string{"DL3038"}, switchIs: "-y",
	},
	"microdnf": {
		verbs: []string{"install", "reinstall", "update", "upgrade", "remove"},
		yes:   func(c *Command) bool { return c.HasFlag("y", "assumeyes") }, aliased: []string{"install"},
		aliases: []string{"DL3038"}, switchIs: "-y",
	},
	"zypper": {
		verbs: []string{"install", "in", "remove", "rm", "source-install", "si", "patch", "update", "up", "dist-upgrade", "dup"},
		yes: func(c *Command) bool {
			return c.HasFlag("n", "non-interactive", "y", "no-confirm")
		},
		aliased: []string{"install", "in", "remove", "rm", "source-install", "si", "patch"}, aliases: []string{"DL3034"},
		switchIs: "--non-interactive (or -y after the verb)",
	},
}

// aptAssumesYes: -y/--yes/--assume-yes, quiet level 2 (-qq, -q -q, -q=2), or
// `-o APT::Get::Assume-Yes=true`.
func aptAssumesYes(c *Command) bool {
	if c.HasFlag("y", "yes", "assume-yes") {
		return true
	}
	quiet := 0
	for _, a := range c.Args {
		switch {
		case a == "--":
			return quiet >= 2
		case a == "--quiet":
			quiet++
		case strings.HasPrefix(a, "--quiet="), strings.HasPrefix(a, "-q="):
			if _, v, _ := strings.Cut(a, "="); v >= "2" {
				quiet += 2
			}
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			quiet += strings.Count(a, "q")
		case strings.HasPrefix(a, "APT::Get::Assume-Yes="):
			return isTruthy(strings.TrimPrefix(a, "APT::Get::Assume-Yes="))
		}
	}
	return quiet >= 2
}

func checkPrompts(c *Context) {
	for _, ins := range pkgRuns(c.File) {
		for _, call := range pkgCalls(ins, nil) {
			rule, ok := promptRules[call.Tool]
			if !ok || !verbIs(rule.verbs...)(call) || rule.yes(call.Cmd) || fedYes(call.Orig) {
				continue
			}
			if (call.Tool == "apt-get" || call.Tool == "apt") && assumeYesInConfig(c.File, ins) {
				continue
			}
			var aliases []string
			if verbIs(rule.aliased...)(call) {
				aliases = rule.aliases
			}
			c.ReportWith(ins, aliases, fmt.Sprintf("%s %s may stop at a confirmation prompt, which fails or hangs a build with no terminal; add %s",
				call.Tool, call.Verb, rule.switchIs), "")
		}
	}
}

// fedYes reports `yes | apt-get install …`, which answers every prompt.
func fedYes(cmd *Command) bool {
	for _, p := range cmd.Pipeline {
		if p == cmd {
			return false
		}
		if p.Name == "yes" {
			return true
		}
	}
	return false
}

func assumeYesInConfig(f *File, ins *Instruction) bool {
	for _, run := range runsUpTo(f, ins) {
		for _, cmd := range unwrapAll(run) {
			if v, ok := echoedAptSetting(cmd, "APT::Get::Assume-Yes"); ok && isTruthy(v) {
				return true
			}
		}
	}
	return false
}

// checkDistUpgrade reports distribution upgrades inside a build.
func checkDistUpgrade(c *Context) {
	for _, ins := range pkgRuns(c.File) {
		for _, call := range pkgCalls(ins, nil) {
			var aliases []string
			switch {
			case call.Tool == "apt-get" && verbIs("dist-upgrade", "full-upgrade")(call):
				aliases = []string{"DS-0024", "DKL-DI-0003"}
				if call.Verb == "dist-upgrade" {
					aliases = append([]string{"DL3005"}, aliases...)
				}
			case (call.Tool == "apt" || call.Tool == "aptitude") && verbIs("dist-upgrade", "full-upgrade")(call):
				aliases = []string{"DKL-DI-0003"}
			case call.Tool == "zypper" && verbIs("dist-upgrade", "dup")(call):
				aliases = []string{"DL3035"}
			default:
				continue
			}
			c.ReportWith(ins, aliases, fmt.Sprintf("%s %s moves the base image to whatever the distribution ships on build day; "+
				"use a newer base image tag instead", call.Tool, call.Verb), "")
		}
	}
}

// checkAptCLI reports `apt`, whose output and behaviour are meant for people and may change.
func checkAptCLI(c *Context) {
	for _, ins := range pkgRuns(c.File) {
		for _, cmd := range unwrapAll(ins) {
			if cmd.Name == "apt" {
				verb := cmd.Subcommand(valueFlags["apt-get"]...)
				c.Report(ins, fmt.Sprintf("`apt %s` uses apt's interactive front end, whose command-line interface is not stable; use apt-get (or apt-cache)", verb))
				break
			}
		}
	}
}
