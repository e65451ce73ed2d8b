package dockerfile

import (
	"fmt"
	"path"
	"strings"
)

// fetchers download a URL; interpreters run code.
var (
	fetchers     = map[string]bool{"curl": true, "wget": true, "fetch": true}
	shellNames   = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}
	scriptInterp = map[string]string{"perl": "e", "ruby": "e", "node": "e", "nodejs": "e", "php": "r", "lua": "e"}
)

// isInterpreter reports whether a command runs code: a shell, python, perl, ruby, node, php.
func isInterpreter(name string) bool {
	_, ok := scriptInterp[name]
	return shellNames[name] || isPythonName(name) || ok
}

func checkRemoteScripts(c *Context) {
	for _, ins := range pkgRuns(c.File) {
		if msg := remoteScript(ins); msg != "" {
			c.Report(ins, msg)
		}
	}
}

// remoteScript returns why the RUN executes code fetched over the network without
// checking it, or "".
func remoteScript(ins *Instruction) string {
	script := ins.Script()
	for _, raw := range script.Commands {
		if msg := pipedScript(raw); msg != "" {
			return msg
		}
		cmd := raw.Unwrapped()
		if msg := substitutedScript(cmd); msg != "" {
			return msg
		}
	}
	return downloadedThenRun(script.Commands)
}

// pipedScript finds `curl … | sh` and its variants: a fetcher writing to stdout earlier in
// the pipeline than an interpreter that reads its program from stdin.
func pipedScript(raw *Command) string {
	if len(raw.Pipeline) < 2 || raw.Pipeline[0] != raw {
		return ""
	}
	var from *Command
	for _, p := range raw.Pipeline {
		u := p.Unwrapped()
		if from == nil && fetchers[u.Name] && fetchesToStdout(u) {
			from = u
			continue
		}
		if from != nil && isInterpreter(u.Name) && readsProgramFromStdin(u) {
			return fmt.Sprintf("pipes a script downloaded by %s%s straight into %s, so whatever the server (or anyone in between) sends runs in the build unverified",
				from.Name, fromHost(from), u.Name)
		}
	}
	return ""
}

// fetchesToStdout reports whether curl/wget write the download to stdout.
func fetchesToStdout(c *Command) bool {
	switch c.Name {
	case "curl":
		if c.HasFlag("O", "remote-name", "remote-name-all") {
			return false
		}
		out, ok := shortOrLong(c, 'o', "output")
		return !ok || out == "-" || out == "/dev/stdout"
	case "wget":
		out, ok := wgetOutput(c)
		return ok && (out == "-" || out == "/dev/stdout")
	}
	return true
}

// wgetOutput returns wget's -O/--output-document value, also from clusters like -qO-.
func wgetOutput(c *Command) (string, bool) { return shortOrLong(c, 'O', "output-document") }

// shortOrLong returns the value of an option given as --long=v, --long v, -Xv, -X v, or at
// the end of a cluster of short options (-fsSLo file, -qO-).
func shortOrLong(c *Command, short byte, long string) (string, bool) {
	for i, a := range c.Args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--"+long+"="); ok {
			return v, true
		}
		if a == "--"+long && i+1 < len(c.Args) {
			return c.Args[i+1], true
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") {
			if j := strings.IndexByte(a, short); j > 0 {
				if rest := a[j+1:]; rest != "" {
					return rest, true
				}
				if i+1 < len(c.Args) {
					return c.Args[i+1], true
				}
			}
		}
	}
	return "", false
}

// readsProgramFromStdin reports whether an interpreter takes its program from stdin: no
// script file or inline code, or an explicit `-`/`-s`.
func readsProgramFromStdin(c *Command) bool {
	inline := "c"
	if v, ok := scriptInterp[c.Name]; ok {
		inline = v
	}
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case a == "-" || a == "-s":
			return true
		case a == "--":
			return i+1 >= len(c.Args) // `bash -- file` runs the file
		case strings.HasPrefix(a, "<("):
			return false // process substitution: see substitutedScript
		case strings.HasPrefix(a, "--"):
			switch a {
			case "--eval", "--print", "--command":
				return false
			case "--rcfile", "--init-file":
				i++
			}
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			flags := a[1:]
			if strings.Contains(flags, inline) || (isPythonName(c.Name) && strings.Contains(flags, "m")) {
				return false
			}
			if shellNames[c.Name] && strings.Contains(flags, "s") {
				return true
			}
			if flags == "o" || (isPythonName(c.Name) && (flags == "W" || flags == "X")) {
				i++
			}
		default:
			return false // a script file: stdin is its data
		}
	}
	return true
}

// substitutedScript finds `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -qO- …)"`
// and `. <(curl …)`.
func substitutedScript(c *Command) string {
	if !isInterpreter(c.Name) && c.Name != "eval" && c.Name != "source" && c.Name != "." {
		return ""
	}
	for _, a := range c.Args {
		for _, inner := range substitutions(a) {
			for _, ic := range ParseShell(inner).Commands {
				u := ic.Unwrapped()
				if fetchers[u.Name] && fetchesToStdout(u) {
					return fmt.Sprintf("runs a script downloaded by %s%s through %s without verifying it", u.Name, fromHost(u), c.Name)
				}
			}
		}
	}
	return ""
}

// substitutions returns the bodies of $(…), <(…) and `…` in a word.
func substitutions(w string) []string {
	var out []string
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] == '`':
			if j := strings.IndexByte(w[i+1:], '`'); j >= 0 {
				out = append(out, w[i+1:i+1+j])
				i += j + 1
			}
		case (w[i] == '$' || w[i] == '<') && i+1 < len(w) && w[i+1] == '(':
			depth := 0
			for j := i + 1; j < len(w); j++ {
				if w[j] == '(' {
					depth++
				} else if w[j] == ')' {
					depth--
					if depth == 0 {
						out = append(out, w[i+2:j])
						i = j
						break
					}
				}
			}
		}
	}
	return out
}

// fromHost names the host a fetcher downloads from (never the full URL, which may carry
// credentials or tokens).
func fromHost(c *Command) string {
	for _, a := range c.Args {
		_, rest, ok := strings.Cut(a, "://")
		if !ok {
			continue
		}
		host, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		host, _, _ = strings.Cut(host, "?")
		if host != "" {
			return " from " + host
		}
	}
	return ""
}

// downloadedThenRun finds a script saved by curl/wget and then run by an interpreter (or
// directly) in the same RUN, with no checksum or signature check in between.
func downloadedThenRun(cmds []*Command) string {
	saved := map[string]*Command{}
	for _, raw := range cmds {
		c := raw.Unwrapped()
		if isVerifier(c) {
			return ""
		}
		if fetchers[c.Name] {
			if f := savedFile(c); f != "" {
				saved[path.Base(f)] = c
			}
			continue
		}
		target := ""
		if isInterpreter(c.Name) {
			if pos := c.Positionals("o", "W", "X", "rcfile", "init-file"); len(pos) > 0 && !hasInline(c) {
				target = path.Base(pos[0])
			}
		} else if isScriptName(c.Name) {
			target = c.Name
		}
		if from, ok := saved[target]; ok && target != "" {
			return fmt.Sprintf("downloads %s with %s%s and runs it without checking a checksum or signature first", target, from.Name, fromHost(from))
		}
	}
	return ""
}

func hasInline(c *Command) bool {
	inline := "c"
	if v, ok := scriptInterp[c.Name]; ok {
		inline = v
	}
	for _, a := range c.Args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a[1:], inline) {
			return true
		}
	}
	return false
}

// isScriptName reports whether a command name looks like a script file run directly.
func isScriptName(name string) bool {
	for _, ext := range []string{".sh", ".bash", ".py", ".pl", ".rb", ".js", ".php"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// savedFile returns where curl/wget save the download, or "" for stdout.
func savedFile(c *Command) string {
	url := ""
	for _, a := range c.Args {
		if strings.Contains(a, "://") {
			url = a
		}
	}
	switch c.Name {
	case "curl":
		if out, ok := shortOrLong(c, 'o', "output"); ok && out != "-" {
			return out
		}
		if c.HasFlag("O", "remote-name") && url != "" {
			return path.Base(strings.SplitN(url, "?", 2)[0])
		}
	case "wget":
		if out, ok := wgetOutput(c); ok {
			if out == "-" {
				return ""
			}
			return out
		}
		if url != "" {
			return path.Base(strings.SplitN(url, "?", 2)[0])
		}
	}
	return ""
}

// isVerifier reports a checksum or signature check.
func isVerifier(c *Command) bool {
	switch c.Name {
	case "sha256sum", "sha512sum", "sha384sum", "sha224sum", "sha1sum", "md5sum", "b2sum", "shasum", "cksum", "gpgv", "minisign", "signify", "cosign":
		return true
	case "gpg", "gpg2":
		return c.HasFlag("verify")
	case "openssl":
		return len(c.Args) > 0 && c.Args[0] == "dgst"
	}
	return false
}
