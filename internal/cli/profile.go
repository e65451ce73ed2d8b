package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/runtime/profile"
)

func newProfileCmd(env Env) *cobra.Command {
	var (
		format, output, charterPath, seccompPath, imageName, platform, userns string
		deny, insecure                                                        []string
		noCache, quiet                                                        bool
	)
	cmd := &cobra.Command{
		Use:   "profile IMAGE",
		Short: "Print a least-privilege runtime profile for an image: docker, compose, Kubernetes, OCI, seccomp",
		Long: "Read IMAGE (any source scan reads) and charter.yaml's runtime section and print how to\n" +
			"run it with least privilege: the image's non-root user (else 65532:65532), a read-only\n" +
			"root filesystem with tmpfs at runtime.writable (/tmp when absent), every capability\n" +
			"dropped but runtime.capabilities.add, no-new-privileges, Docker's default seccomp profile\n" +
			"(narrowed with --seccomp-deny), memory/CPU/process limits (512Mi, 1 CPU, 256 when\n" +
			"runtime.limits is silent), no host namespaces, and no network when the charter allows\n" +
			"no egress and the image exposes no port.\n\n" +
			"Formats: docker (a `docker run` command), compose (a service), kubernetes (a Deployment\n" +
			"and an egress NetworkPolicy), oci (config.json for runc/crun: unpack the image's root\n" +
			"filesystem into rootfs/ beside it), seccomp (the seccomp profile in Docker's JSON format).\n" +
			"What charter chose, and what a runtime cannot express, is printed as comments (on\n" +
			"stderr for the JSON formats).",
		Example: "  charter profile docker:api:dev\n" +
			"  charter profile registry:ghcr.io/acme/api:v3 --format kubernetes > api.yaml\n" +
			"  charter profile oci-dir:./build/oci --format oci --output bundle/config.json\n" +
			"  charter profile oci-dir:./build/oci --format oci --userns 100000:65536 --output bundle/config.json\n" +
			"  charter profile docker:api:dev --format seccomp --seccomp-deny ptrace,personality > seccomp.json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(profile.Formats, format) {
				return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(profile.Formats, ", "))
			}
			var idMap *profile.IDMap
			podUserNS := false
			switch {
			case userns == "":
			case format == "kubernetes":
				if userns != "auto" {
					return errors.New("--userns: Kubernetes chooses the host IDs itself; write --userns auto (hostUsers: false)")
				}
				podUserNS = true
			case format != "oci":
				return errors.New("--userns applies to --format oci and kubernetes (Docker maps users daemon-wide, with userns-remap in daemon.json)")
			case userns == "auto":
				return errors.New("--userns auto: runc and crun do not choose host IDs; give them, as HOSTID[:SIZE] (see /etc/subuid)")
			default:
				m, err := profile.ParseIDMap(userns)
				if err != nil {
					return fmt.Errorf("--userns %w", err)
				}
				idMap = m
			}
			rf := reportFlags{charter: charterPath}
			pf, err := rf.loadCharter(catalog())
			if err != nil {
				return err
			}
			opts := image.Options{Platform: platform, InsecureRegistries: insecure, NoCache: noCache, Getenv: env.Getenv}
			img, err := image.Open(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			defer func() { _ = img.Close() }()
			p, err := profile.FromImage(cmd.Context(), img, pf, profile.Options{ImageName: imageName, SeccompDeny: deny, UserNS: idMap, PodUserNS: podUserNS})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			out, err := p.Render(format, seccompPath)
			if err != nil {
				return err
			}
			if (format == "oci" || format == "seccomp") && !quiet {
				for _, n := range p.Notes {
					fmt.Fprintf(env.Stderr, "charter: note: %s\n", n)
				}
			}
			if output != "" {
				return writeFileAtomic(output, out)
			}
			_, err = env.Stdout.Write(out)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&format, "format", "o", "docker", "output `FORMAT`: "+strings.Join(profile.Formats, ", "))
	fl.StringVar(&output, "output", "", "write to `FILE` instead of standard output")
	fl.StringVar(&charterPath, "charter", "", "charter file (default ./charter.yaml when present)")
	fl.StringSliceVar(&deny, "seccomp-deny", nil, "remove `SYSCALLS` (comma-separated) from the default seccomp allowlist")
	fl.StringVar(&seccompPath, "seccomp-path", profile.DefaultSeccompPath, "where the docker and compose outputs expect the narrowed seccomp profile (`FILE`)")
	fl.StringVar(&imageName, "image-name", "", "the image `REF` the outputs name (default: charter.yaml's image.name, else IMAGE's reference)")
	fl.StringVar(&userns, "userns", "", "run in a user namespace: oci maps container IDs 0… to host IDs `HOSTID[:SIZE]` (size 65536 by default); kubernetes takes auto (hostUsers: false)")
	fl.StringVar(&platform, "platform", "", "pick `OS/ARCH[/VARIANT]` from a multi-platform image")
	fl.StringArrayVar(&insecure, "insecure-registry", nil, "allow plain HTTP to `HOST[:PORT]` (repeatable)")
	fl.BoolVar(&noCache, "no-cache", false, "read every layer again and write nothing to the layer cache")
	fl.BoolVarP(&quiet, "quiet", "q", false, "print no notes on stderr")
	return cmd
}
