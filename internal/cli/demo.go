package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/examples"
	"github.com/charterhq/charter/internal/lint"
	"github.com/charterhq/charter/internal/report"
)

// demoCase is one bundled example and the verdict charter must reach on it.
type demoCase struct {
	dir      string
	wantPass bool
	about    string
}

var demoCases = []demoCase{
	{"leaky", false, "a service image with the mistakes charter exists to catch"},
	{"hardened", true, "the same kind of service, built the way charter expects"},
}

func newDemoCmd(env Env) *cobra.Command {
	var keep string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run charter on its bundled examples, offline, with embedded defaults",
		Long: "Unpack the bundled example projects to a temporary folder and lint them with charter's\n" +
			"default policy: 'leaky' must fail, 'hardened' must pass. Exit 0 when both verdicts are\n" +
			"as expected.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := keep
			if dir == "" {
				tmp, err := os.MkdirTemp("", "charter-demo-")
				if err != nil {
					return err
				}
				defer func() { _ = os.RemoveAll(tmp) }()
				dir = tmp
			}
			if err := unpackExamples(dir); err != nil {
				return err
			}
			cat := catalog()
			color := colorEnabled(env, env.Stdout)
			var bad []string
			for _, dc := range demoCases {
				fmt.Fprintf(env.Stdout, "\n=== charter lint examples/%s  (%s)\n\n", dc.dir, dc.about)
				r, err := lint.Run(cmd.Context(), filepath.Join(dir, dc.dir), lint.Options{Version: version()})
				if err != nil {
					return fmt.Errorf("demo %s: %w", dc.dir, err)
				}
				r.Target.Ref = "examples/" + dc.dir
				r.Finalize(report.High)
				if err := report.EncodeTable(env.Stdout, r, report.Options{Color: color, Rules: cat}); err != nil {
					return err
				}
				if r.Verdict.Pass != dc.wantPass {
					bad = append(bad, dc.dir)
				}
			}
			fmt.Fprintln(env.Stdout)
			if keep != "" {
				fmt.Fprintf(env.Stdout, "The examples are in %s; try: charter lint %s -o sarif\n", keep, filepath.Join(keep, "leaky"))
			}
			if len(bad) > 0 {
				return fmt.Errorf("demo: unexpected verdict on %v", bad)
			}
			_, err := fmt.Fprintln(env.Stdout, "demo: leaky FAILED and hardened PASSED, as expected.")
			return err
		},
	}
	cmd.Flags().StringVar(&keep, "keep", "", "unpack the examples into `DIR` and keep them")
	return cmd
}

// unpackExamples writes the embedded example projects under dir.
func unpackExamples(dir string) error {
	return fs.WalkDir(examples.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := examples.FS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}
