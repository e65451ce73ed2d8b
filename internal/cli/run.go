package cli

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/supervisor"
)

type runFlags struct {
	charter        string
	jobID          string
	attemptTimeout time.Duration
	grace          time.Duration
	secretFiles    []string
	subreaper      bool
}

func newRunCmd(env Env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [--charter FILE] [flags] -- COMMAND [ARG...]",
		Short: "Run an automation job: retries, deadline, kill switch, redacted output, durable state",
		Long: "run is the entrypoint of an automation container. It runs COMMAND as PID 1 should\n" +
			"(signals forwarded, zombies reaped, the exit code passed on), masks secrets in\n" +
			"everything COMMAND prints, retries it within job.retries and job.deadline, obeys\n" +
			"job.killSwitch, logs one JSON line per event on stderr, and serves the job's state\n" +
			"(job.state) over HTTP on the unix socket named by CHARTER_STATE_SOCKET.\n\n" +
			"Exit code: COMMAND's (128+N if signal N ended it); 0 when the kill switch skipped\n" +
			"the run; 1 when it stopped it; 124 when the deadline or the last attempt's\n" +
			"timeout ended it; 126/127 when COMMAND cannot be run; 2 when charter could not\n" +
			"set the run up. See docs/run.md.",
		Example: "  charter run -- ./post-daily.sh\n" +
			"  charter run --charter /etc/charter/charter.yaml -- python -m poster\n" +
			"  charter run --attempt-timeout 5m -- /app/sync\n" +
			"  # Dockerfile\n" +
			"  ENTRYPOINT [\"/usr/local/bin/charter\", \"run\", \"--\"]\n" +
			"  CMD [\"/app/poster\"]",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := runJob(cmd, env, f, args)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitCodeError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false) // everything after COMMAND is COMMAND's
	fl := cmd.Flags()
	fl.StringVar(&f.charter, "charter", "", "charter file (default ./charter.yaml when present)")
	fl.StringVar(&f.jobID, "job-id", "", "name of the job in the event log (default $CHARTER_JOB_ID, else image.name, else COMMAND's name)")
	fl.DurationVar(&f.attemptTimeout, "attempt-timeout", 0, "bound on one attempt; a timed-out attempt is retried (0: none)")
	fl.DurationVar(&f.grace, "grace-period", 10*time.Second, "how long COMMAND has to exit after SIGTERM before SIGKILL")
	fl.StringArrayVar(&f.secretFiles, "secret-files", supervisor.DefaultSecretFiles, "`GLOB` of mounted secret files whose contents are masked (repeatable)")
	fl.BoolVar(&f.subreaper, "subreaper", false, "reap orphaned descendants even when not PID 1 (as tini -s)")
	return cmd
}

func runJob(cmd *cobra.Command, env Env, f runFlags, args []string) (int, error) {
	pf, err := loadJobCharter(f.charter)
	if err != nil {
		return 0, err
	}
	procEnv := os.Environ()
	src := supervisor.RedactionSources{Env: procEnv, Files: f.secretFiles}
	if pf != nil {
		src.EnvGlobs, src.Patterns = pf.Job.Redact.Env, pf.Job.Redact.Patterns
	}
	red, err := supervisor.NewRedaction(src)
	if err != nil {
		return 0, err
	}
	cfg := supervisor.Config{
		JobID: f.jobID, Command: args, Env: procEnv,
		Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr,
		AttemptTimeout: f.attemptTimeout, Grace: f.grace, Redaction: red,
		Reap: f.subreaper, Group: !env.IsTerminal(env.Stdin),
		Getenv: env.Getenv, Now: env.Now,
	}
	cfg.ApplyCharter(pf)
	if cfg.JobID == "" {
		cfg.JobID = env.Getenv("CHARTER_JOB_ID")
	}
	if cfg.JobID == "" && pf != nil {
		cfg.JobID = pf.Image.Name
	}
	if cfg.JobID == "" {
		cfg.JobID = filepath.Base(args[0])
	}
	code, err := supervisor.Run(cmd.Context(), cfg)
	if err != nil {
		return 0, errors.New("run: " + red.String(err.Error()))
	}
	return code, nil
}

// loadJobCharter reads --charter, or ./charter.yaml when present; no file means defaults.
func loadJobCharter(path string) (*policy.File, error) {
	if path == "" {
		p, ok := policy.Find(".")
		if !ok {
			return nil, nil
		}
		path = p
	}
	return policy.Load(path)
}
