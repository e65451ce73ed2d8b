// Package cli is charter's command line: one file per command, each building its cobra
// command from an injected Env so tests run it in-process. It maps outcomes to the exit
// codes every command shares: 0 passed, 1 the verdict failed, 2 charter could not do its job.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes, the same for every command.
const (
	ExitPass  = 0
	ExitFail  = 1
	ExitError = 2
)

// errVerdict is returned by a command whose report failed its threshold: exit 1, and
// nothing more to say on stderr (the report said it).
var errVerdict = errors.New("verdict failed")

// exitCodeError ends charter with a specific exit code and nothing on stderr: `charter
// run` passes on the code its job ended with (75, 137…), which is not one of the three
// codes charter's own verdicts use.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Env is the process around a command: its streams, environment and clock.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// IsTerminal reports whether a stream is an interactive terminal (colour, progress).
	IsTerminal func(any) bool
}

// OSEnv is the real process's Env.
func OSEnv() Env {
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Now: time.Now, IsTerminal: isTerminal,
	}
}

func (e Env) withDefaults() Env {
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.IsTerminal == nil {
		e.IsTerminal = func(any) bool { return false }
	}
	return e
}

// Run executes charter with args and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	env = env.withDefaults()
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return ExitPass
	case errors.Is(err, errVerdict):
		return ExitFail
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	fmt.Fprintf(env.Stderr, "charter: %s\n", oneLine(err.Error()))
	return ExitError
}

// oneLine keeps an error message to a single line, as scripts and CI logs expect.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "charter",
		Short: "Make a container image's contract real, from the Dockerfile to the running process",
		Long: "charter lints Dockerfiles and build contexts, scans images, and enforces one contract\n" +
			"(charter.yaml) from build to runtime.\n\n" +
			"Exit codes: 0 the verdict passed, 1 the verdict failed, 2 charter could not do its job.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see 'charter %s --help')", c.Name(), err, c.Name())
	})
	root.AddCommand(
		newVersionCmd(env),
		newRulesCmd(env),
		newLintCmd(env),
		newDemoCmd(env),
		newRunCmd(env),
		newScanCmd(env),
		newKeygenCmd(env),
		newSignCmd(env),
		newVerifyCmd(env),
		newAttestCmd(env),
		newVerifyAttestationCmd(env),
		newPromoteCmd(env),
		newSbomCmd(env),
		newDBCmd(env),
		newCheckCmd(env),
		newInventoryCmd(env),
		newDiffCmd(env),
		newPackCmd(env),
		newSignBlobCmd(env),
		newVerifyBlobCmd(env),
		newProfileCmd(env),
		newInspectCmd(env),
		newMonitorCmd(env),
		newAdmissionCmd(env),
	)
	return root
}
