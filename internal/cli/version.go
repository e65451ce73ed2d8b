package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Version, Commit and Date describe the build. scripts/release.sh stamps them with
//
//	-ldflags "-X github.com/charterhq/charter/internal/cli.Version=v1.2.3
//	          -X github.com/charterhq/charter/internal/cli.Commit=<full commit hash>
//	          -X github.com/charterhq/charter/internal/cli.Date=2026-11-26T03:40:00Z"
//
// Date is the commit's time (or SOURCE_DATE_EPOCH), never the build's, so two builds of
// one commit stay bit-identical. Unstamped builds (go build, go install, go run) fall
// back to what the Go toolchain recorded: the module version and the VCS settings.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// buildInfo is what `charter version` reports. Missing facts are "unknown" (a build
// with -buildvcs=false, or from a tree without .git, records no commit).
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	// Modified is set when the build came from a working tree with uncommitted changes,
	// so Commit alone does not say what was built.
	Modified bool `json:"modified,omitempty"`
}

const unknown = "unknown"

// version returns the stamped version, else the module version a `go install` recorded.
func version() string {
	return readBuildInfo().Version
}

// commit returns the full commit hash the binary was built from, or "" when unknown.
func commit() string {
	if c := readBuildInfo().Commit; c != unknown {
		return c
	}
	return ""
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: Version, Commit: Commit, Date: Date,
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = fromGoBuildInfo(b, bi)
	}
	if b.Commit == "" {
		b.Commit = unknown
	}
	if b.Date == "" {
		b.Date = unknown
	}
	return b
}

// fromGoBuildInfo fills what the ldflags did not stamp from the toolchain's record. The
// toolchain's VCS settings only fill in when the ldflags stamped no commit: a stamped
// commit and date belong together.
func fromGoBuildInfo(b buildInfo, bi *debug.BuildInfo) buildInfo {
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.Go = bi.GoVersion
	}
	if b.Commit != "" {
		return b
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Date = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// text renders one line: "charter VERSION (commit C, DATE, GO, OS/ARCH)", leaving out
// what is unknown, so the first two words stay the name and the version.
func (b buildInfo) text() string {
	var parts []string
	if b.Commit != unknown {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += ", modified"
		}
		parts = append(parts, "commit "+c)
	}
	if b.Date != unknown {
		parts = append(parts, b.Date)
	}
	parts = append(parts, b.Go, b.Platform)
	return fmt.Sprintf("charter %s (%s)\n", b.Version, strings.Join(parts, ", "))
}

func newVersionCmd(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print charter's version, commit, commit date, Go version and platform",
		Example: `  charter version
  charter version -o json | jq -r .commit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			switch format {
			case "text", "table", "":
				_, err := fmt.Fprint(env.Stdout, b.text())
				return err
			case "json":
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(b)
			}
			return fmt.Errorf("unknown format %q (want text or json)", format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "text", "output format: text or json")
	return cmd
}
