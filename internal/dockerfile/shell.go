package dockerfile

import (
	"path"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Script is a RUN body parsed as shell: the commands it runs, in order, with pipelines kept.
type Script struct {
	// Commands lists every simple command, including those inside &&/|| chains, subshells,
	// `sh -c '…'` strings, if/for bodies and pipelines, in source order.
	Commands []*Command
	// Source is the shell text that was parsed.
	Source string
	// Err is set when the body is not parseable shell; Commands is then a best effort.
	Err error
}

// Command is one simple command: its name and literal arguments.
type Command struct {
	// Name is argv[0] without its directory: "apt-get", not "/usr/bin/apt-get".
	Name string
	// Args are argv[1:]. Words that are not literal (e.g. "$(uname -m)") keep their source text.
	Args []string
	// Pipeline holds every command of the pipeline this one is part of (itself included),
	// in order; nil when the command is not piped.
	Pipeline []*Command
	// Assigns are the VAR=value prefixes of the command (`DEBIAN_FRONTEND=noninteractive apt-get`).
	Assigns []string
	// Line is the line within the script (1-based).
	Line int
}

// Script parses the instruction's shell body: the shell-form RUN text, or a RUN heredoc,
// or for exec-form RUN the argv itself. Non-RUN instructions give an empty script.
func (i *Instruction) Script() *Script {
	if i.script != nil {
		return i.script
	}
	switch {
	case i.Cmd != "RUN":
		i.script = &Script{}
	case i.JSON:
		i.script = execScript(i.Args)
	default:
		i.script = ParseShell(i.shellSource())
	}
	return i.script
}

// shellSource is the text a shell runs for a shell-form RUN. When the command line is only
// heredoc openers, or a shell reading one (`RUN <<EOF bash`), the heredoc bodies are the
// script (unless they start with a non-shell shebang such as python's). Otherwise the
// heredocs are data for the command (`RUN cat <<EOF >/etc/app.conf`) and are put back as
// proper here-documents so that their lines are not taken for commands.
func (i *Instruction) shellSource() string {
	src := strings.Join(i.Args, " ")
	if len(i.Heredocs) == 0 {
		return src
	}
	var b strings.Builder
	if rest := strings.Fields(heredocOpener.ReplaceAllString(src, "")); len(rest) == 0 || isShellName(rest[0]) {
		for _, h := range i.Heredocs {
			body := h.Content
			if first, _, _ := strings.Cut(body, "\n"); strings.HasPrefix(first, "#!") && !isShellShebang(first) {
				continue
			}
			b.WriteString(body)
			b.WriteString("\n")
		}
		return b.String()
	}
	b.WriteString(src)
	for _, h := range i.Heredocs {
		b.WriteString("\n")
		b.WriteString(strings.TrimSuffix(h.Content, "\n"))
		b.WriteString("\n")
		b.WriteString(h.Name)
	}
	return b.String() + "\n"
}

// heredocOpener matches `<<EOF`, `<<-EOF`, `<<"EOF"` and `<<'EOF'` on a RUN line.
var heredocOpener = regexp.MustCompile(`<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?`)

func isShellName(cmd string) bool {
	switch path.Base(cmd) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
		return true
	}
	return false
}

func isShellShebang(line string) bool {
	for _, sh := range []string{"sh", "bash", "ash", "dash", "zsh", "ksh"} {
		if strings.HasSuffix(strings.TrimSpace(line), "/"+sh) || strings.HasSuffix(strings.TrimSpace(line), " "+sh) {
			return true
		}
	}
	return false
}

func execScript(argv []string) *Script {
	s := &Script{Source: strings.Join(argv, " ")}
	if len(argv) > 0 {
		s.Commands = []*Command{{Name: path.Base(argv[0]), Args: argv[1:], Line: 1}}
		s.Commands = append(s.Commands, nestedShell(s.Commands[0])...)
	}
	return s
}

// ParseShell parses POSIX/bash shell text into its commands. Heredoc markers BuildKit has
// already consumed (`<<EOF` with no body) are tolerated.
func ParseShell(src string) *Script {
	s := &Script{Source: src}
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	file, err := p.Parse(strings.NewReader(src), "")
	if err != nil {
		s.Err = err
		// Fall back on a plain word split per line so rules still see obvious commands.
		for n, line := range strings.Split(src, "\n") {
			for _, part := range splitOperators(line) {
				if words := strings.Fields(part); len(words) > 0 {
					s.Commands = append(s.Commands, &Command{Name: path.Base(words[0]), Args: words[1:], Line: n + 1})
				}
			}
		}
		return s
	}
	s.Commands = commandsOf(src, file)
	return s
}

func splitOperators(line string) []string {
	r := strings.NewReplacer("&&", "\x00", "||", "\x00", ";", "\x00", "|", "\x00")
	return strings.Split(r.Replace(line), "\x00")
}

func commandsOf(src string, node syntax.Node) []*Command {
	var out []*Command
	syntax.Walk(node, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.BinaryCmd:
			if n.Op == syntax.Pipe || n.Op == syntax.PipeAll {
				pipe := pipelineOf(src, n)
				out = append(out, pipe...)
				return false
			}
		case *syntax.CallExpr:
			if c := callCommand(src, n); c != nil {
				out = append(out, c)
				out = append(out, nestedShell(c)...)
			}
			return false
		}
		return true
	})
	return out
}

// pipelineOf flattens a | chain; each stage may itself hold several commands (a subshell).
func pipelineOf(src string, b *syntax.BinaryCmd) []*Command {
	var stmts []*syntax.Stmt
	var flatten func(*syntax.Stmt)
	flatten = func(st *syntax.Stmt) {
		if bc, ok := st.Cmd.(*syntax.BinaryCmd); ok && (bc.Op == syntax.Pipe || bc.Op == syntax.PipeAll) {
			flatten(bc.X)
			flatten(bc.Y)
			return
		}
		stmts = append(stmts, st)
	}
	flatten(b.X)
	flatten(b.Y)
	var all, heads []*Command
	for _, st := range stmts {
		cmds := commandsOf(src, st)
		if len(cmds) == 0 {
			continue
		}
		heads = append(heads, cmds[0])
		all = append(all, cmds...)
	}
	for _, c := range heads {
		c.Pipeline = heads
	}
	return all
}

func callCommand(src string, call *syntax.CallExpr) *Command {
	c := &Command{Line: int(call.Pos().Line())}
	for _, a := range call.Assigns {
		c.Assigns = append(c.Assigns, nodeText(src, a))
	}
	if len(call.Args) == 0 {
		return nil
	}
	words := make([]string, len(call.Args))
	for i, w := range call.Args {
		words[i] = wordText(src, w)
	}
	c.Name = path.Base(words[0])
	c.Args = words[1:]
	return c
}

// wordText returns a word's literal value with quotes removed, or its source text when it
// contains expansions.
func wordText(src string, w *syntax.Word) string {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if lit, ok := q.(*syntax.Lit); ok {
					b.WriteString(lit.Value)
				} else {
					b.WriteString(nodeText(src, q))
				}
			}
		default:
			b.WriteString(nodeText(src, part))
		}
	}
	return b.String()
}

// nodeText returns a node's source text: what the Dockerfile says, without the cost of
// printing the syntax tree back.
func nodeText(src string, n syntax.Node) string {
	start, end := int(n.Pos().Offset()), int(n.End().Offset())
	if start < 0 || end > len(src) || start > end {
		return ""
	}
	return strings.TrimSpace(src[start:end])
}

// nestedShell parses the string of `sh -c '…'` / `bash -c "…"` so its commands count too.
func nestedShell(c *Command) []*Command {
	switch c.Name {
	case "sh", "bash", "ash", "dash", "zsh", "ksh":
	default:
		return nil
	}
	for i, a := range c.Args {
		if a == "-c" && i+1 < len(c.Args) {
			inner := ParseShell(c.Args[i+1])
			for _, ic := range inner.Commands {
				ic.Line = c.Line
			}
			return inner.Commands
		}
		if !strings.HasPrefix(a, "-") {
			return nil
		}
	}
	return nil
}

// HasFlag reports whether the command was given any of the named flags. Names are given
// without dashes: one letter means a short flag (found in combined forms like -qy),
// longer names a long flag (--yes or --yes=…). Arguments after "--" are not flags.
func (c *Command) HasFlag(names ...string) bool {
	for _, a := range c.Args {
		if a == "--" {
			return false
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		for _, n := range names {
			if len(n) == 1 {
				if !strings.HasPrefix(a, "--") && strings.Contains(a[1:], n) {
					return true
				}
				continue
			}
			long := strings.TrimPrefix(a, "--")
			if long == n || strings.HasPrefix(long, n+"=") {
				return true
			}
		}
	}
	return false
}

// FlagValue returns the value of a long or short flag: `--target=x`, `--target x`, `-t x`, `-tx`.
func (c *Command) FlagValue(names ...string) (string, bool) {
	for i, a := range c.Args {
		if a == "--" {
			break
		}
		for _, n := range names {
			prefix := "--" + n
			if len(n) == 1 {
				prefix = "-" + n
			}
			switch {
			case a == prefix:
				if i+1 < len(c.Args) {
					return c.Args[i+1], true
				}
				return "", true
			case len(n) > 1 && strings.HasPrefix(a, prefix+"="):
				return a[len(prefix)+1:], true
			case len(n) == 1 && strings.HasPrefix(a, prefix) && !strings.HasPrefix(a, "--"):
				return a[2:], true
			}
		}
	}
	return "", false
}

// Positionals returns the arguments that are not flags. Flags listed in withValue take
// the next argument as their value (`-o Dpkg::Options`, `--target-release stable`), so it
// is skipped too. Everything after "--" is positional.
func (c *Command) Positionals(withValue ...string) []string {
	var out []string
	takes := map[string]bool{}
	for _, f := range withValue {
		takes[f] = true
	}
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a == "--" {
			out = append(out, c.Args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takes[name] {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// Subcommand returns the first positional argument (`install` in `apt-get -y install x`).
func (c *Command) Subcommand(withValue ...string) string {
	if p := c.Positionals(withValue...); len(p) > 0 {
		return p[0]
	}
	return ""
}

// Is reports whether the command's name is one of names.
func (c *Command) Is(names ...string) bool {
	for _, n := range names {
		if c.Name == n {
			return true
		}
	}
	return false
}

// CommandsNamed returns the script's commands with one of the given names.
func (s *Script) CommandsNamed(names ...string) []*Command {
	var out []*Command
	for _, c := range s.Commands {
		if c.Is(names...) {
			out = append(out, c)
		}
	}
	return out
}

// Unwrapped returns the command run through a wrapper (`sudo -E apt-get …`,
// `env X=1 pip …`, `time make`, `nohup x`), or c itself.
func (c *Command) Unwrapped() *Command {
	cur := c
	for i := 0; i < 4; i++ {
		var rest []string
		switch cur.Name {
		case "sudo", "doas", "env", "time", "nohup", "nice", "exec", "command", "gosu", "su-exec":
			rest = cur.Args
		default:
			return cur
		}
		j := 0
		for j < len(rest) && (strings.HasPrefix(rest[j], "-") || strings.Contains(rest[j], "=")) {
			j++
		}
		if (cur.Name == "gosu" || cur.Name == "su-exec") && j < len(rest) {
			j++ // the user argument
		}
		if j >= len(rest) {
			return cur
		}
		cur = &Command{Name: path.Base(rest[j]), Args: rest[j+1:], Pipeline: c.Pipeline, Line: c.Line}
	}
	return cur
}
