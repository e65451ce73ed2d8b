package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// goBuild compiles the main package for one platform into out, statically and with
// nothing of the build machine in it: no cgo, no paths (-trimpath), no symbol table or
// DWARF (-s -w), no build ID.
func goBuild(ctx context.Context, o *Options, p v1.Platform, out string) error {
	ldflags := "-s -w -buildid="
	if o.LDFlags != "" {
		ldflags += " " + o.LDFlags
	}
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", out, o.Package}
	cmd := exec.CommandContext(ctx, o.GoBin, args...) //nolint:gosec // the go tool and the package are the user's
	cmd.Dir = o.Dir
	cmd.Env = buildEnv(o.Env, p)
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		// One line for the caller's one-line error: the first few lines of go's report.
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		msg := strings.Join(lines[:min(len(lines), 3)], "; ")
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("go build %s for %s: %s", o.Package, platformString(p), msg)
	}
	return nil
}

// buildEnv is the caller's environment with the cross-compilation settings forced.
// GOFLAGS is dropped: a -mod or -ldflags from the environment would make the output
// depend on who ran the build.
func buildEnv(env []string, p v1.Platform) []string {
	out := make([]string, 0, len(env)+4)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GOARM64", "GOFLAGS":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if p.Architecture == "arm" && strings.HasPrefix(p.Variant, "v") {
		out = append(out, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	return out
}

// ParsePlatform reads OS/ARCH[/VARIANT].
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want OS/ARCH[/VARIANT], e.g. linux/amd64", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// SourceInfo describes where the packed source came from: what the OCI annotations and
// the provenance say.
type SourceInfo struct {
	// URL is the repository (org.opencontainers.image.source), credentials removed.
	URL string
	// Revision is the commit (org.opencontainers.image.revision).
	Revision string
	// Epoch is the build's single timestamp.
	Epoch time.Time
	// Dirty is set when the checkout had uncommitted changes.
	Dirty bool
}

// GitSource reads the checkout that holds dir: its origin URL, HEAD and HEAD's commit
// time. Outside a git checkout (or without git) it returns what it can: nothing.
func GitSource(ctx context.Context, dir string) SourceInfo {
	var s SourceInfo
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...) //nolint:gosec // fixed git subcommands
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	s.Revision = git("rev-parse", "HEAD")
	if s.Revision == "" {
		return SourceInfo{}
	}
	s.URL = cleanRemote(git("config", "--get", "remote.origin.url"))
	if sec, err := strconv.ParseInt(git("log", "-1", "--format=%ct"), 10, 64); err == nil && sec >= 0 {
		s.Epoch = time.Unix(sec, 0).UTC()
	}
	s.Dirty = git("status", "--porcelain", "--untracked-files=no") != ""
	return s
}

// cleanRemote drops credentials from a remote URL (https://user:token@host/…), which
// must never reach an image label.
func cleanRemote(u string) string {
	if u == "" {
		return ""
	}
	if pu, err := url.Parse(u); err == nil && pu.Scheme != "" && pu.Host != "" {
		pu.User = nil
		return pu.String()
	}
	// scp-like git@host:org/repo: the user is not a secret, but keep only host and path.
	if at := strings.LastIndex(u, "@"); at >= 0 && !strings.Contains(u[:at], "/") {
		return u[at+1:]
	}
	return u
}

// EpochFromEnv reads SOURCE_DATE_EPOCH; ok is false when it is not set.
func EpochFromEnv(getenv func(string) string) (t time.Time, ok bool, err error) {
	s := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH"))
	if s == "" {
		return time.Time{}, false, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 || sec > 253402300799 {
		return time.Time{}, false, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", s)
	}
	return time.Unix(sec, 0).UTC(), true, nil
}

// binaryName is the program's file name: the package directory's base name, as go
// build names it.
func binaryName(dir, pkg string) (string, error) {
	p := pkg
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	n := filepath.Base(abs)
	if n == "" || n == "." || n == string(filepath.Separator) {
		return "", errors.New("cannot name the binary: pass --name")
	}
	return n, nil
}
