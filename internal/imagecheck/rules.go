package imagecheck

import "github.com/charterhq/charter/internal/report"

const (
	category     = "image"
	refDockle    = "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md"
	refSecrets   = "https://docs.docker.com/build/building/secrets/" //nolint:gosec // a documentation URL, not a credential
	refMultiStep = "https://docs.docker.com/build/building/multi-stage/"
	refUser      = "https://docs.docker.com/reference/dockerfile/#user"
)

var ruleIMG001 = report.Rule{
	ID: "IMG001", Aliases: []string{"DS-0002", "CIS-DI-0001"}, Severity: report.High,
	Title: "Image runs as root",
	Description: "The image config's User is what every container started from the image runs as, " +
		"unless the runtime overrides it. An empty User means root, as do \"root\", \"0\" and any " +
		"name that the image's own /etc/passwd maps to UID 0. Running as root turns any " +
		"code-execution bug into full control of the container, and together with a kernel or " +
		"runtime flaw or a mounted host path it becomes a host compromise.",
	Remediation: "Set a non-root user at the end of the Dockerfile, preferably numeric so Kubernetes " +
		"runAsNonRoot can verify it (USER 65532:65532), or rebuild from a base image that already " +
		"runs as an unprivileged user (a distroless :nonroot tag, say).",
	References: []string{refUser, "https://avd.aquasec.com/misconfig/ds002", refDockle + "#cis-di-0001-create-a-user-for-the-container"},
	Category:   category,
	Example:    "RUN useradd --uid 10001 --no-create-home app\nUSER 10001:10001",
}

var ruleIMG002 = report.Rule{
	ID: "IMG002", Aliases: []string{"DS-0031", "CIS-DI-0010"}, Severity: report.Critical,
	Title: "Secret in the image config or history",
	Description: "Env, Labels, Entrypoint and Cmd are stored in the image config, and every build " +
		"step's command line, build arguments included (`|1 NPM_TOKEN=… /bin/sh -c npm ci`), is " +
		"stored in its history: `docker inspect` and `docker history --no-trunc` show them to " +
		"anyone who can pull the image. Found by the variable's name with a literal value " +
		"(DB_PASSWORD=…, NPM_TOKEN=…) or by a value that looks like a credential (a token, a " +
		"private key, a URL with a password). A value already reported for the config is not " +
		"reported again for the history entry that set it.",
	Remediation: "Rotate the credential: the image has already given it away. Pass build-time " +
		"secrets with BuildKit secret mounts (RUN --mount=type=secret,id=npm …) instead of ARG or " +
		"ENV, and give runtime secrets to the container when it starts (orchestrator secrets, " +
		"mounted files), never in the image.",
	References: []string{refSecrets, "https://avd.aquasec.com/misconfig/ds031", refDockle + "#cis-di-0010-do-not-store-secrets-in-dockerfiles"},
	Category:   category,
	Example:    "RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm ci",
}

var ruleIMG003 = report.Rule{
	ID: "IMG003", Aliases: []string{"CIS-DI-0010"}, Severity: report.Critical,
	Title: "Secret file in the image",
	Description: "A file of the final filesystem carries a credential, by its name (a private key, " +
		".env, .npmrc, cloud or registry credentials, a password hash in a shadow file) or by its " +
		"content (a token, a key, a password assignment). Everyone who can pull the image can " +
		"read it. Distribution CA bundles and public keys are not secrets; test fixtures inside " +
		"installed packages (site-packages, node_modules, Go's module cache, /usr/share) are not " +
		"reported, and contents are not scanned inside trees that package managers own.",
	Remediation: "Keep the file out of the image: add it to .dockerignore, copy named paths only, " +
		"or build in a stage the final image does not copy from. Mount credentials at run time " +
		"(Kubernetes secrets, docker run --mount) and use RUN --mount=type=secret during the build. " +
		"Rotate the credential.",
	References: []string{refSecrets, refDockle + "#cis-di-0010-do-not-store-secrets-in-dockerfiles", "https://cwe.mitre.org/data/definitions/538.html"},
	Category:   category,
}

var ruleIMG004 = report.Rule{
	ID: "IMG004", Severity: report.Critical,
	Title: "Deleted secret file still in an earlier layer",
	Description: "A layer added a secret-bearing file and a later layer deleted or replaced it. The " +
		"final filesystem no longer shows it, but layers are immutable: the earlier layer still " +
		"holds the file, and anyone who pulls the image can extract it with `docker save` or " +
		"`crane blob`. Scanners that look at the final filesystem only (Dockle's CIS-DI-0010 " +
		"among them) do not see it.",
	Remediation: "Rotate the credential, then rebuild so that no layer ever holds the file: use " +
		"RUN --mount=type=secret for build-time credentials, or a multi-stage build that copies " +
		"only the output into the final stage. Deleting a file in a later RUN never removes it " +
		"from the image.",
	References: []string{refSecrets, refMultiStep, "https://cwe.mitre.org/data/definitions/538.html"},
	Category:   category,
	Example:    "# instead of COPY .npmrc . + RUN npm ci + RUN rm .npmrc\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
}

var ruleIMG005 = report.Rule{
	ID: "IMG005", Aliases: []string{"CIS-DI-0008"}, Severity: report.Medium,
	Title: "Setuid or setgid file",
	Description: "A setuid or setgid executable runs with its owner's or group's privileges " +
		"whoever starts it: a bug in it, or a writable path it trusts, lets an unprivileged " +
		"process in the container become root. Every such regular file of the final filesystem " +
		"is reported, one finding each, including the ones distributions ship (su, passwd, " +
		"mount…), as Dockle and the CIS Docker Benchmark do: a container rarely needs any of them. " +
		"Setgid directories (group inheritance) are not reported.",
	Remediation: "Strip the bits at the end of the build (RUN find / -xdev -perm /6000 -type f " +
		"-exec chmod a-s {} +), remove the programs the container does not need, and run with " +
		"allowPrivilegeEscalation: false (no_new_privs), which makes the bits inert. Accept a " +
		"needed one in charter.yaml with an ignore entry for its path.",
	References: []string{refDockle + "#cis-di-0008-confirm-safety-of-setuid-and-setgid-files",
		"https://man7.org/linux/man-pages/man2/execve.2.html",
		"https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"},
	Category: category,
	Example:  "RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +",
}

var ruleIMG006 = report.Rule{
	ID: "IMG006", Severity: report.Low,
	Title: "World-writable file or directory",
	Description: "Any user in the container can change a world-writable file, or add and replace " +
		"files in a world-writable directory: a foothold for tampering with code, configuration " +
		"or what a privileged process later reads. /tmp, /var/tmp, /dev/shm and their contents " +
		"and directories with the sticky bit are not reported; symbolic links always carry mode " +
		"0777 and are skipped. Entries below a reported directory are counted in its finding.",
	Remediation: "Remove write permission for others (chmod o-w), give the application's own user " +
		"ownership of what it writes (COPY --chown, chown in the build), and mount writable paths " +
		"as volumes or tmpfs over a read-only root filesystem.",
	References: []string{"https://cwe.mitre.org/data/definitions/732.html",
		"https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"},
	Category: category,
	Example:  "COPY --chown=10001:10001 app/ /app/\nRUN chmod -R o-w /app",
}

var ruleIMG007 = report.Rule{
	ID: "IMG007", Aliases: []string{"DS-0004"}, Severity: report.Medium,
	Title: "SSH exposed or SSH server present",
	Description: "The image exposes port 22 or ships an SSH server (sshd, dropbear). A container " +
		"is entered with `kubectl exec` or `docker exec`; an SSH daemon adds a network-facing " +
		"login service, keys or passwords to manage, and a second process to supervise.",
	Remediation: "Remove EXPOSE 22 and the SSH server package (openssh-server, dropbear) from the " +
		"image. Debug with kubectl exec or an ephemeral debug container instead.",
	References: []string{"https://avd.aquasec.com/misconfig/ds004",
		"https://kubernetes.io/docs/tasks/debug/debug-application/debug-running-pod/#ephemeral-container"},
	Category: category,
}

var ruleIMG008 = report.Rule{
	ID: "IMG008", Severity: report.Info,
	Title: "Shell or package manager in the image",
	Description: "The final image has a shell (sh, bash, busybox…) or a package manager (apt, apk, " +
		"dnf, pip, npm…). An attacker who gets code execution uses them to explore, download and " +
		"install tools; an image without them (distroless, scratch, a static binary) leaves far " +
		"less to work with. One finding lists them all.",
	Remediation: "Build the program in a builder stage and copy only its output into a minimal base " +
		"(gcr.io/distroless/static or base, chainguard static, scratch). If the image needs a " +
		"shell, keep package managers out of the final stage.",
	References: []string{refMultiStep, "https://github.com/GoogleContainerTools/distroless"},
	Category:   category,
}

var ruleIMG010 = report.Rule{
	ID: "IMG010", Severity: report.Medium,
	Title: "Malformed or hostile layer entry",
	Description: "A layer holds an entry that a well-formed image does not: a name that climbs out " +
		"of the root (../), an absolute name, a symbolic or hard link whose target leaves the " +
		"root, an entry written through a symlink of the same layer, a device node, the same " +
		"path twice, an unknown entry type or a malformed whiteout. Naive extractors (tar -x, " +
		"older runtimes and tools) can be made to write outside their target directory or to " +
		"expose host devices, so an image that does this was built by a broken tool or made to " +
		"attack one. charter never extracts layers; it reports each entry and goes on. The " +
		"character devices every runtime creates itself (/dev/null, zero, full, random, urandom, " +
		"tty, console, ptmx), at their usual numbers, are what a debootstrap root filesystem " +
		"holds and are not reported.",
	Remediation: "Rebuild the image with a standard builder (BuildKit, Buildah, ko, Jib) from a " +
		"trusted base, and find out where the odd layer came from: a base image you did not " +
		"build, an `ADD archive.tar` of untrusted input, or a hand-made layer.",
	References: []string{"https://github.com/opencontainers/image-spec/blob/main/layer.md",
		"https://cwe.mitre.org/data/definitions/22.html"},
	Category: category,
}

// Rules returns the metadata of the image checks.
func Rules() []report.Rule {
	return []report.Rule{ruleIMG001, ruleIMG002, ruleIMG003, ruleIMG004, ruleIMG005, ruleIMG006,
		ruleIMG007, ruleIMG008, ruleIMG010}
}
