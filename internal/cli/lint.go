package cli

import (
	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/lint"
)

func newLintCmd(env Env) *cobra.Command {
	var rf reportFlags
	var contextDir string
	var noContext bool
	cmd := &cobra.Command{
		Use:   "lint [PATH]",
		Short: "Lint Dockerfiles, build contexts, Kubernetes manifests, compose and CI files",
		Long: "Lint every Dockerfile under PATH (default .), or one Dockerfile, or '-' for standard input,\n" +
			"and preflight each build context: what .dockerignore lets through, what COPY/ADD put in\n" +
			"the final image, and which secrets ride along. Kubernetes manifests (any workload, Lists,\n" +
			"JSON), compose files and GitHub Actions / GitLab CI files found beside them are checked\n" +
			"against the MAN rules and the Pod Security Standards. One report per run.",
		Example: "  charter lint .\n" +
			"  charter lint Dockerfile --fail-on medium\n" +
			"  cat Dockerfile | charter lint -\n" +
			"  helm template ./chart | charter lint -\n" +
			"  charter lint k8s/deployment.yaml\n" +
			"  charter lint . -o sarif --output charter.sarif",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rf.validate(); err != nil {
				return err
			}
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			cat := catalog()
			pf, err := rf.loadCharter(cat)
			if err != nil {
				return err
			}
			prog := newProgress(env, rf.noProgress)
			r, err := lint.Run(cmd.Context(), target, lint.Options{
				Version:    version(),
				Charter:    pf,
				ContextDir: contextDir,
				NoContext:  noContext,
				Stdin:      env.Stdin,
				Progress: func(done, total int, path string) {
					prog.update("linting %d/%d %s", done+1, total, path)
				},
			})
			prog.done()
			if err != nil {
				return err
			}
			pf.Apply(r, cat, env.Now())
			threshold := rf.threshold(cmd, pf)
			if !cmd.Flags().Changed("fail-on") && (pf == nil || !pf.FailOnSet()) {
				if s, ok := lint.HadolintFailOn(target); ok {
					threshold = s
				}
			}
			r.Finalize(threshold)
			return rf.write(env, r, cat)
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&contextDir, "context", "", "build context `DIR` of a single Dockerfile (default: its folder)")
	cmd.Flags().BoolVar(&noContext, "no-context", false, "lint the Dockerfile only; skip the build-context preflight")
	return cmd
}
