package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Kill-switch modes.
const (
	ModeSkip = "skip" // the action is not run; the job exits 0 and says why
	ModeStop = "stop" // the job stops now and exits ExitStopped
)

// KillSwitch lets an operator stop a job without a deploy. It is on when File exists,
// when the environment variable Env is set and not empty, or when URL answers 200 with
// a body of 1, true, on, yes, kill, skip or stop (the last two also choose the mode).
type KillSwitch struct {
	File, Env, URL string
	// Mode is ModeSkip or ModeStop; "" means stop.
	Mode string
	// Poll is how often the switch is checked during an attempt; 0 means 1s (the URL
	// at most every 5s).
	Poll time.Duration
	// Client asks URL; nil means a client with a 3s timeout.
	Client *http.Client
}

// configured reports whether any trigger is set.
func (k KillSwitch) configured() bool { return k.File != "" || k.Env != "" || k.URL != "" }

// errUnreachable: the switch's URL gave no usable answer.
var errUnreachable = errors.New("kill switch unreachable")

// check reports whether the switch is on, in which mode, and why. checkURL is false
// during an attempt between URL polls.
func (k KillSwitch) check(ctx context.Context, getenv func(string) string, checkURL bool) (on bool, mode, reason string, err error) {
	mode = k.Mode
	if mode == "" {
		mode = ModeStop
	}
	if k.File != "" {
		if _, err := os.Stat(k.File); err == nil {
			return true, mode, "kill switch file " + k.File + " exists", nil
		}
	}
	if k.Env != "" && getenv(k.Env) != "" {
		return true, mode, "kill switch variable " + k.Env + " is set", nil
	}
	if k.URL == "" || !checkURL {
		return false, mode, "", nil
	}
	on, urlMode, err := k.askURL(ctx)
	if err != nil {
		return false, mode, "", err
	}
	if urlMode != "" {
		mode = urlMode
	}
	return on, mode, "kill switch URL says " + map[bool]string{true: "on", false: "off"}[on], nil
}

// askURL asks the flag URL. Only its status and a short body are read.
func (k KillSwitch) askURL(ctx context.Context) (on bool, mode string, err error) {
	c := k.Client
	if c == nil {
		c = &http.Client{Timeout: 3 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.URL, nil)
	if err != nil {
		return false, "", fmt.Errorf("%w: %w", errUnreachable, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		// The URL's host may be in the message, never credentials (the charter file
		// refuses URLs with them).
		return false, "", fmt.Errorf("%w: %w", errUnreachable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusNoContent:
		return false, "", nil
	default:
		return false, "", fmt.Errorf("%w: %s", errUnreachable, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return false, "", fmt.Errorf("%w: %w", errUnreachable, err)
	}
	switch v := strings.ToLower(strings.Trim(strings.TrimSpace(string(b)), `"`)); v {
	case "1", "true", "on", "yes", "kill":
		return true, "", nil
	case ModeSkip, ModeStop:
		return true, v, nil
	case "", "0", "false", "off", "no":
		return false, "", nil
	}
	return false, "", fmt.Errorf("%w: unexpected answer (want true or false, skip or stop)", errUnreachable)
}
