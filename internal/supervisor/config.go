package supervisor

import (
	"time"

	"github.com/charterhq/charter/internal/policy"
)

// ApplyCharter sets what a charter file's job section decides: deadline, retries, kill
// switch and state. Redaction is built separately (NewRedaction), from job.redact.
func (c *Config) ApplyCharter(f *policy.File) {
	if f == nil {
		return
	}
	j := f.Job
	c.Deadline = time.Duration(j.Deadline)
	c.Attempts = j.Retries.Max
	c.Backoff = time.Duration(j.Retries.Backoff)
	c.MaxBackoff = time.Duration(j.Retries.MaxBackoff)
	c.Jitter = j.Retries.Jitter
	if j.Retries.On != nil {
		c.RetryOn = append([]int{}, j.Retries.On...)
	}
	c.KillSwitch.File = j.KillSwitch.File
	c.KillSwitch.Env = j.KillSwitch.Env
	c.KillSwitch.URL = j.KillSwitch.URL
	c.KillSwitch.Mode = j.KillSwitch.Mode
	c.StatePath = f.StatePath()
}
