package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/runtime/inspect"
	"github.com/charterhq/charter/internal/runtime/profile"
)

// maxManifestFile bounds the manifest `charter inspect` reads.
const maxManifestFile = 8 << 20

func newInspectCmd(env Env) *cobra.Command {
	var (
		rf   reportFlags
		deny []string
	)
	cmd := &cobra.Command{
		Use:   "inspect docker:CONTAINER | podman:CONTAINER | MANIFEST.yaml",
		Short: "Compare how a container really runs with the charter's runtime profile (drift)",
		Long: "Read a running container's settings from the Docker daemon ($DOCKER_HOST, default\n" +
			"unix:///var/run/docker.sock) or Podman's API socket ($CONTAINER_HOST, else\n" +
			"$XDG_RUNTIME_DIR/podman/podman.sock, else /run/podman/podman.sock), or the pods a\n" +
			"Kubernetes manifest describes (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,\n" +
			"Job, CronJob…), and report every way\n" +
			"they run with more privilege than the profile `charter profile` prints for the\n" +
			"charter: user, read-only root, capabilities, no-new-privileges, seccomp, memory/CPU/\n" +
			"process limits, host namespaces, writable mounts, network (PRF001–PRF013).\n" +
			"Exit 1 when a finding is at or above --fail-on.",
		Example: "  charter inspect docker:api\n" +
			"  DOCKER_HOST=unix:///run/user/1000/docker.sock charter inspect docker:3f2a9c --charter deploy/charter.yaml\n" +
			"  charter inspect podman:api\n" +
			"  charter inspect k8s/deployment.yaml -o sarif --output drift.sarif\n" +
			"  kubectl get pod api-7d9 -o yaml | charter inspect -",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rf.validate(); err != nil {
				return err
			}
			cat := catalog()
			pf, err := rf.loadCharter(cat)
			if err != nil {
				return err
			}
			opts := profile.Options{SeccompDeny: deny}
			var r *report.Report
			if ref, ok := strings.CutPrefix(args[0], "docker:"); ok {
				r, err = inspectDocker(cmd.Context(), env.Getenv("DOCKER_HOST"), "docker:", ref, pf, opts)
			} else if ref, ok := strings.CutPrefix(args[0], "podman:"); ok {
				host := inspect.PodmanHost(env.Getenv, func(p string) bool { _, err := os.Stat(p); return err == nil })
				r, err = inspectDocker(cmd.Context(), host, "podman:", ref, pf, opts)
			} else {
				r, err = inspectManifest(env, args[0], pf, opts)
			}
			if err != nil {
				return err
			}
			pf.Apply(r, cat, env.Now())
			r.Finalize(rf.threshold(cmd, pf))
			return rf.write(env, r, cat)
		},
	}
	rf.register(cmd)
	cmd.Flags().StringSliceVar(&deny, "seccomp-deny", nil, "the `SYSCALLS` the profile removes from the default seccomp allowlist (as given to charter profile)")
	return cmd
}

// inspectDocker inspects a container through the Docker Engine API at host (Podman
// serves the same API); scheme names the source in the report.
func inspectDocker(ctx context.Context, host, scheme, ref string, pf *policy.File, opts profile.Options) (*report.Report, error) {
	d, err := inspect.NewDocker(host)
	if err != nil {
		return nil, err
	}
	c, err := d.Container(ctx, ref)
	if err != nil {
		return nil, err
	}
	src := profile.Source{Ref: scheme + c.ImageRef}
	if cfg, err := d.ImageConfig(ctx, c.Image); err == nil {
		src.Config = cfg
	}
	p, err := profile.Build(src, pf, opts)
	if err != nil {
		return nil, err
	}
	r := report.New(version(), report.Target{Kind: "container", Ref: scheme + ref})
	r.Findings = append(r.Findings, inspect.Compare(p, c.Settings)...)
	return r, nil
}

func inspectManifest(env Env, path string, pf *policy.File, opts profile.Options) (*report.Report, error) {
	data, err := readManifest(env, path)
	if err != nil {
		return nil, err
	}
	settings, err := inspect.ParseKubernetes(path, data)
	if err != nil {
		return nil, err
	}
	if len(settings) == 0 {
		return nil, fmt.Errorf("%s: no pod or workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob…) to inspect", path)
	}
	r := report.New(version(), report.Target{Kind: "manifest", Ref: path})
	for _, s := range settings {
		p, err := profile.Build(profile.Source{Ref: s.Location.Image}, pf, opts)
		if err != nil {
			return nil, err
		}
		r.Findings = append(r.Findings, inspect.Compare(p, s)...)
	}
	return r, nil
}

func readManifest(env Env, path string) ([]byte, error) {
	if path == "-" {
		return readCappedAll(env.Stdin, maxManifestFile, "standard input")
	}
	f, err := os.Open(path) //nolint:gosec // the user names the file to inspect
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return readCappedAll(f, maxManifestFile, path)
}

func readCappedAll(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}
