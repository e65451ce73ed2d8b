package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/runtime/monitor"
)

func newMonitorCmd(env Env) *cobra.Command {
	var (
		charterPath, format, webhook, enforce, source, imageRef string
		containers                                              []string
		all                                                     bool
		duration                                                time.Duration
	)
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Watch running containers for shells, drift, unexpected egress and sensitive files",
		Long: "Watch every process executed, every outbound connection and every sensitive file opened in\n" +
			"the host's containers (eBPF; root or CAP_BPF+CAP_PERFMON), map each to its container and image,\n" +
			"and report RT001-RT005 as JSON Lines or a table. charter.yaml's runtime.egress is the egress\n" +
			"allowlist and its monitor.exceptions the accepted events. On exit (SIGINT, SIGTERM, --duration)\n" +
			"a counts line goes to stderr; the exit code is 1 when an alert was reported.\n\n" +
			"Without eBPF the monitor falls back to the proc connector (process starts only) and says what is lost.",
		Example: "  sudo charter monitor\n" +
			"  sudo charter monitor --container web --format jsonl --webhook https://alerts.example.com/charter\n" +
			"  sudo charter monitor --duration 10m --charter deploy/charter.yaml --enforce kill",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all && len(containers) > 0 {
				return errors.New("monitor: --all and --container exclude each other")
			}
			if format != "jsonl" && format != "table" {
				return fmt.Errorf("monitor: unknown format %q (want jsonl or table)", format)
			}
			if enforce != "" && enforce != "kill" {
				return fmt.Errorf("monitor: --enforce %q: the one enforcement is kill", enforce)
			}
			if webhook != "" {
				if u, err := url.Parse(webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return fmt.Errorf("monitor: --webhook %q is not an http(s) URL", webhook)
				}
			}
			if source == "auto" {
				source = ""
			}
			return runMonitor(cmd.Context(), env, monitorArgs{
				charter: charterPath, format: format, webhook: webhook, enforce: enforce == "kill",
				source: source, image: imageRef, containers: containers, duration: duration,
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&charterPath, "charter", "", "charter file (default ./charter.yaml when present): runtime.egress and monitor.exceptions")
	fl.StringSliceVar(&containers, "container", nil, "watch only this container (name, ID or ID prefix, or a Kubernetes namespace/pod/container or pod/container; repeatable)")
	fl.BoolVar(&all, "all", false, "watch every container (the default)")
	fl.StringVarP(&format, "format", "o", "table", "output format: jsonl or table")
	fl.StringVar(&webhook, "webhook", "", "also POST each alert as JSON to this URL")
	fl.StringVar(&enforce, "enforce", "", "enforcement: kill (SIGKILL the process an alert names); off by default")
	fl.DurationVar(&duration, "duration", 0, "stop after this long (default: until SIGINT or SIGTERM)")
	fl.StringVar(&source, "source", "auto", "event source: auto, bpf or proc (the proc connector fallback)")
	fl.StringVar(&imageRef, "image", "", "image to compare executables with (RT002) when the engine cannot say (plain runc)")
	return cmd
}

type monitorArgs struct {
	charter, format, webhook, source, image string
	enforce                                 bool
	containers                              []string
	duration                                time.Duration
}

func runMonitor(ctx context.Context, env Env, a monitorArgs) error {
	pf, err := loadJobCharter(a.charter)
	if err != nil {
		return err
	}
	warn := func(s string) { fmt.Fprintf(env.Stderr, "charter monitor: warning: %s\n", s) }
	opts := monitor.Options{
		Source: a.source, Containers: a.containers, Image: a.image, Enforce: a.enforce,
		EngineHost: env.Getenv("DOCKER_HOST"), Warn: warn, Now: env.Now,
		ImageOptions: image.Options{Getenv: env.Getenv},
	}
	if pf != nil {
		opts.Exceptions = pf.Monitor.Exceptions
		eg, err := monitor.NewEgress(ctx, pf.Runtime.Egress, pf.Runtime.Egress != nil, net.DefaultResolver)
		if err != nil {
			return err
		}
		opts.Egress = eg
	}
	if opts.Egress == nil {
		warn("no runtime.egress in a charter file: RT003 (egress) is off")
	}
	if a.format == "jsonl" {
		opts.Sinks = append(opts.Sinks, monitor.NewJSONLines(env.Stdout))
	} else {
		opts.Sinks = append(opts.Sinks, monitor.NewTable(env.Stdout))
	}
	if a.webhook != "" {
		opts.Sinks = append(opts.Sinks, monitor.NewWebhook(a.webhook, nil))
	}
	m, err := monitor.New(opts)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if a.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.duration)
		defer cancel()
	}
	fmt.Fprintf(env.Stderr, "charter monitor: watching (source %s)\n", m.Source())
	counts, err := m.Run(ctx)
	fmt.Fprintf(env.Stderr, "charter monitor: %s\n", counts)
	if counts.Dropped > 0 {
		warn(fmt.Sprintf("%d events were dropped: the reader fell behind the kernel, so alerts may be missing", counts.Dropped))
	}
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if counts.TotalAlerts() > 0 {
		return errVerdict
	}
	return nil
}
