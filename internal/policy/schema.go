package policy

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/charterhq/charter/internal/report"
)

// The charter file's schema, one function per section. Each reads its mapping strictly:
// unknown keys, wrong types and bad values fail with the line at fault.

func (d *decoder) file(root *yaml.Node, f *File) error {
	if root.Kind != yaml.MappingNode {
		return d.errf(root, "a charter file is a mapping that starts with \"version: 1\", got %s", describe(root))
	}
	var versionSeen bool
	err := d.mapping(root, "", []string{"version", "image", "policy", "signing", "runtime", "job", "admission", "monitor"},
		func(key string, _, v *yaml.Node) error {
			switch key {
			case "version":
				versionSeen = true
				return d.version(v, f)
			case "image":
				return d.image(v, &f.Image)
			case "policy":
				return d.policy(v, &f.Policy)
			case "signing":
				return d.signing(v, &f.Signing)
			case "runtime":
				return d.runtime(v, &f.Runtime)
			case "admission":
				return d.admission(v, &f.Admission)
			case "monitor":
				return d.monitor(v, &f.Monitor)
			default:
				return d.job(v, &f.Job)
			}
		})
	if err != nil {
		return err
	}
	if !versionSeen {
		return d.errf(root, "missing \"version: 1\" (the schema version this file is written for)")
	}
	return nil
}

func (d *decoder) version(v *yaml.Node, f *File) error {
	var n int64
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil || n != 1 {
		return d.errf(v, "version: want 1, got %s (this charter reads schema version 1)", describe(v))
	}
	f.Version = 1
	return nil
}

func (d *decoder) image(n *yaml.Node, img *Image) error {
	return d.mapping(n, "image", []string{"name", "base"}, func(key string, _, v *yaml.Node) error {
		if key == "name" {
			s, err := d.str(v, "image.name")
			if err != nil {
				return err
			}
			img.Name = s
			return d.check(v, "image.name", validRef(s))
		}
		return d.mapping(v, "image.base", []string{"allow"}, func(_ string, _, v *yaml.Node) error {
			var err error
			img.Base.Allow, err = d.strings(v, "image.base.allow", validBasePattern)
			return err
		})
	})
}

func (d *decoder) policy(n *yaml.Node, p *Policy) error {
	return d.mapping(n, "policy", []string{"failOn", "rules", "ignore", "vex"}, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "failOn":
			p.FailOn, err = d.failOn(v)
		case "rules":
			p.Rules, err = d.overrides(v)
		case "ignore":
			p.Ignore, err = d.ignores(v)
		default:
			p.VEX, err = d.strings(v, "policy.vex", nonEmpty)
		}
		return err
	})
}

var failOnLevels = []string{"critical", "high", "medium", "low", "info", "none"}

func (d *decoder) failOn(v *yaml.Node) (string, error) {
	s, err := d.str(v, "policy.failOn")
	if err != nil {
		return "", err
	}
	low := strings.ToLower(s)
	for _, l := range failOnLevels {
		if low == l {
			return l, nil
		}
	}
	return "", d.errf(v, "policy.failOn: unknown severity %q (want critical, high, medium, low, info or none)%s",
		clip(s), suggest(low, failOnLevels))
}

var overrideLevels = []string{"critical", "high", "medium", "low", "info", "off"}

func (d *decoder) overrides(n *yaml.Node) (Overrides, error) {
	out := Overrides{}
	err := d.mapping(n, "policy.rules", nil, func(id string, k, v *yaml.Node) error {
		if err := validID(id); err != nil {
			return d.errf(k, "policy.rules: %v", err)
		}
		where := "policy.rules." + id
		// YAML 1.1 readers took a bare off for false; this one keeps it a string, and a
		// boolean here is a mistake worth naming.
		s, err := d.str(v, where)
		if err != nil {
			return err
		}
		low := strings.ToLower(s)
		sev := report.SeverityNone
		switch low {
		case "off":
		case "critical", "high", "medium", "low", "info":
			sev, _ = report.ParseSeverity(low)
		default:
			return d.errf(v, "%s: unknown severity %q (want critical, high, medium, low, info or off)%s",
				where, clip(s), suggest(low, overrideLevels))
		}
		out = append(out, Override{ID: id, Severity: sev, line: k.Line})
		return nil
	})
	return out, err
}

func (d *decoder) ignores(n *yaml.Node) ([]Ignore, error) {
	out := []Ignore{}
	err := d.list(n, "policy.ignore", func(i int, item *yaml.Node) error {
		ig, err := d.ignore(item, fmt.Sprintf("policy.ignore[%d]", i))
		if err != nil {
			return err
		}
		out = append(out, ig)
		return nil
	})
	return out, err
}

func (d *decoder) ignore(n *yaml.Node, where string) (Ignore, error) {
	ig := Ignore{line: n.Line, column: n.Column}
	if n.Kind != yaml.MappingNode {
		return ig, d.errf(n, "%s: want a mapping with id and reason, got %s", where, describe(n))
	}
	err := d.mapping(n, where, []string{"id", "package", "path", "reason", "expires"}, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		var err error
		switch key {
		case "id":
			if ig.ID, err = d.str(v, at); err == nil {
				err = d.check(v, at, validID(ig.ID))
			}
		case "package":
			if ig.Package, err = d.str(v, at); err == nil {
				err = d.check(v, at, validPackage(ig.Package))
			}
		case "path":
			if ig.Path, err = d.str(v, at); err == nil {
				err = d.check(v, at, validGlob(ig.Path))
			}
		case "reason":
			ig.Reason, err = d.str(v, at)
		default:
			ig.Expires, err = d.date(v, at)
		}
		return err
	})
	if err != nil {
		return ig, err
	}
	if ig.ID == "" {
		return ig, d.errf(n, "%s: missing id (the rule, alias or advisory ID to ignore)", where)
	}
	if strings.TrimSpace(ig.Reason) == "" {
		return ig, d.errf(n, "%s: ignore of %s has no reason; say why the finding is accepted", where, ig.ID)
	}
	return ig, nil
}

func (d *decoder) signing(n *yaml.Node, s *Signing) error {
	return d.mapping(n, "signing", []string{"keys"}, func(_ string, _, v *yaml.Node) error {
		var err error
		s.Keys, err = d.strings(v, "signing.keys", nonEmpty)
		return err
	})
}

func (d *decoder) runtime(n *yaml.Node, rt *Runtime) error {
	keys := []string{"user", "readOnlyRootFilesystem", "capabilities", "writable", "egress", "limits", "seccomp"}
	return d.mapping(n, "runtime", keys, func(key string, _, v *yaml.Node) error {
		at := "runtime." + key
		var err error
		switch key {
		case "user":
			if rt.User, err = d.word(v, at); err == nil {
				err = d.check(v, at, validUser(rt.User))
			}
		case "readOnlyRootFilesystem":
			rt.ReadOnlyRootFilesystem, err = d.boolean(v, at)
		case "capabilities":
			err = d.capabilities(v, &rt.Capabilities)
		case "writable":
			rt.Writable, err = d.strings(v, at, validAbsPath)
		case "egress":
			rt.Egress, err = d.strings(v, at, validEgress)
		case "seccomp":
			err = d.seccomp(v, &rt.Seccomp)
		default:
			err = d.limits(v, &rt.Limits)
		}
		return err
	})
}

func (d *decoder) capabilities(n *yaml.Node, c *Capabilities) error {
	return d.mapping(n, "runtime.capabilities", []string{"add", "drop"}, func(key string, _, v *yaml.Node) error {
		var err error
		if key == "add" {
			c.Add, err = d.strings(v, "runtime.capabilities.add", validCapability(false))
		} else {
			c.Drop, err = d.strings(v, "runtime.capabilities.drop", validCapability(true))
		}
		return err
	})
}

func (d *decoder) seccomp(n *yaml.Node, s *Seccomp) error {
	return d.mapping(n, "runtime.seccomp", []string{"deny"}, func(_ string, _, v *yaml.Node) error {
		var err error
		s.Deny, err = d.strings(v, "runtime.seccomp.deny", validSyscall)
		return err
	})
}

var syscallPattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// validSyscall accepts a syscall name as seccomp profiles write it ("ptrace").
func validSyscall(s string) error {
	if !syscallPattern.MatchString(s) {
		return fmt.Errorf("%q is not a syscall name (lower-case, like ptrace or personality)", clip(s))
	}
	return nil
}

func (d *decoder) limits(n *yaml.Node, l *Limits) error {
	return d.mapping(n, "runtime.limits", []string{"memory", "cpu", "pids"}, func(key string, _, v *yaml.Node) error {
		at := "runtime.limits." + key
		var err error
		switch key {
		case "memory":
			if l.Memory, err = d.word(v, at); err == nil {
				err = d.check(v, at, validMemory(l.Memory))
			}
		case "cpu":
			if l.CPU, err = d.word(v, at); err == nil {
				err = d.check(v, at, validCPU(l.CPU))
			}
		default:
			l.Pids, err = d.integer(v, at, 1, 1<<22)
		}
		return err
	})
}

func (d *decoder) job(n *yaml.Node, j *Job) error {
	keys := []string{"deadline", "retries", "killSwitch", "state", "redact"}
	return d.mapping(n, "job", keys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "deadline":
			if j.Deadline, err = d.duration(v, "job.deadline"); err == nil && j.Deadline == 0 {
				err = d.errf(v, "job.deadline: must be more than zero")
			}
		case "retries":
			err = d.retries(v, &j.Retries)
		case "killSwitch":
			err = d.killSwitch(v, &j.KillSwitch)
		case "state":
			if j.State, err = d.str(v, "job.state"); err == nil {
				err = d.check(v, "job.state", nonEmpty(j.State))
			}
		default:
			err = d.redact(v, &j.Redact)
		}
		return err
	})
}

var jitterModes = []string{"full", "equal", "decorrelated", "none"}

func (d *decoder) retries(n *yaml.Node, r *Retries) error {
	keys := []string{"max", "backoff", "maxBackoff", "jitter", "on"}
	err := d.mapping(n, "job.retries", keys, func(key string, _, v *yaml.Node) error {
		at := "job.retries." + key
		var err error
		switch key {
		case "max":
			r.Max, err = d.integer(v, at, 1, 1000)
		case "backoff":
			r.Backoff, err = d.duration(v, at)
		case "maxBackoff":
			r.MaxBackoff, err = d.duration(v, at)
		case "jitter":
			if r.Jitter, err = d.str(v, at); err == nil {
				err = d.check(v, at, oneOf(r.Jitter, jitterModes))
			}
		default:
			r.On = []int{}
			err = d.list(v, at, func(i int, item *yaml.Node) error {
				code, err := d.integer(item, fmt.Sprintf("%s[%d]", at, i), 1, 255)
				r.On = append(r.On, code)
				return err
			})
		}
		return err
	})
	if err == nil && r.MaxBackoff != 0 && r.MaxBackoff < r.Backoff {
		return d.errf(n, "job.retries: maxBackoff (%s) is less than backoff (%s)",
			durationString(r.MaxBackoff), durationString(r.Backoff))
	}
	return err
}

var killModes = []string{"skip", "stop"}

func (d *decoder) killSwitch(n *yaml.Node, k *KillSwitch) error {
	return d.mapping(n, "job.killSwitch", []string{"file", "env", "url", "mode"}, func(key string, _, v *yaml.Node) error {
		at := "job.killSwitch." + key
		s, err := d.str(v, at)
		if err != nil {
			return err
		}
		switch key {
		case "file":
			k.File, err = s, validAbsPath(s)
		case "env":
			k.Env, err = s, validEnvName(s)
		case "url":
			k.URL, err = s, validKillURL(s)
		default:
			k.Mode, err = s, oneOf(s, killModes)
		}
		return d.check(v, at, err)
	})
}

func (d *decoder) redact(n *yaml.Node, r *Redact) error {
	return d.mapping(n, "job.redact", []string{"env", "patterns"}, func(key string, _, v *yaml.Node) error {
		var err error
		if key == "env" {
			r.Env, err = d.strings(v, "job.redact.env", validGlob)
		} else {
			r.Patterns, err = d.strings(v, "job.redact.patterns", validRegexp)
		}
		return err
	})
}
