package dockerfile

import "github.com/charterhq/charter/internal/report"

// packageChecks are the rules about what RUN does with package managers and downloads:
// remote scripts, build tools left behind, caches, pinning, SSH servers, prompts and
// distribution upgrades. The checks live in rules_packages_*.go.
var packageChecks = []check{
	{Rule: report.Rule{
		ID:       "DF007",
		Severity: report.High,
		Title:    "Remote script piped to a shell",
		Description: "`curl … | sh` (and `wget -qO- … | bash`, `bash <(curl …)`, `sh -c \"$(curl …)\"`, `curl … | python`) runs whatever the server sends at build time, as root, with nothing checking what it was. " +
			"A compromised download site, a hijacked domain or a proxy in the path turns into code execution in the image and in every container started from it, and the build is not reproducible either. " +
			"Downloading to a file and running it in the same RUN without a checksum or signature check is the same risk and is reported too.",
		Remediation: "Download to a file, verify it against a checksum or signature you pinned in the Dockerfile (`echo \"<sha256>  install.sh\" | sha256sum -c -`), then run it; " +
			"better, install the tool from a package repository or COPY it from a pinned image.",
		References: []string{
			"https://docs.docker.com/build/building/best-practices/#add-or-copy",
			"https://www.idontplaydarts.com/2016/04/detecting-curl-pipe-bash-server-side/",
		},
		Category: "dockerfile",
		Example: "ARG TOOL_SHA256=2f5e…\n" +
			"RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \\\n" +
			" && echo \"${TOOL_SHA256}  /tmp/install.sh\" | sha256sum -c - \\\n" +
			" && sh /tmp/install.sh && rm /tmp/install.sh",
	}, run: checkRemoteScripts},
	{Rule: report.Rule{
		ID:       "DF008",
		Severity: report.Medium,
		Title:    "Build tools or compilers left in the final image",
		Description: "Compilers, build systems and development headers (gcc, g++, make, cmake, clang, build-essential, build-base, golang, rustc, *-dev and *-devel packages, JDKs) are needed to build software, not to run it. " +
			"Left in the final image they add hundreds of megabytes and hand an attacker who gets a shell a ready toolchain to build exploits and tooling in place. " +
			"Only the stages the final image is built from count, and packages removed later (apt-get purge, apk del of a --virtual group, yum/dnf remove, the apt-mark auto + autoremove idiom) are not reported. " +
			"A final stage built on a toolchain image (golang, rust, gcc, maven, gradle, dotnet/sdk) is reported at its FROM. " +
			"git is deliberately not treated as a build tool: it is not a compiler and many images need it at run time.",
		Remediation: "Build in an earlier stage and COPY only the artefacts into a slim, distroless or scratch final stage; " +
			"if the build must happen in the final stage, install the tools and remove them in the same RUN (`apk add --virtual .build-deps … && … && apk del .build-deps`).",
		References: []string{
			"https://docs.docker.com/build/building/multi-stage/",
			"https://github.com/GoogleContainerTools/distroless",
		},
		Category: "dockerfile",
		Example: "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app ./cmd/app\n\n" +
			"FROM gcr.io/distroless/static-debian12\nCOPY --from=build /app /app\nUSER 65532\nENTRYPOINT [\"/app\"]",
	}, run: checkBuildTools},
	{Rule: report.Rule{
		ID:       "DF009",
		Aliases:  []string{"DL3009", "DL3015", "DL3019", "DL3032", "DL3036", "DL3040", "DL3042", "DL3060", "DS-0015", "DS-0019", "DS-0020", "DS-0025", "DS-0027", "DS-0029", "DKL-DI-0004", "DKL-DI-0005"},
		Severity: report.Low,
		Title:    "Package manager cache left in the image, or recommended packages installed",
		Description: "Package managers keep indexes and downloaded packages: apt's lists (/var/lib/apt/lists), apk's index (/var/cache/apk), yum/dnf/zypper caches, pip's wheel cache (~/.cache/pip), yarn's cache. " +
			"Removing them in a later RUN does not help, because the earlier layer still carries them; they only make the image bigger and slower to pull and scan. " +
			"apt-get install without --no-install-recommends pulls in recommended packages too, which often doubles what an install costs in size and attack surface. " +
			"Only stages that end up in the final image (and ONBUILD triggers) are checked; a BuildKit cache or tmpfs mount on the cache directory counts as clean.",
		Remediation: "Clean up in the same RUN that installs: `apt-get install -y --no-install-recommends … && rm -rf /var/lib/apt/lists/*` (or `apt-get dist-clean` on apt 2.7+), `apk add --no-cache …`, " +
			"`yum install -y … && yum clean all`, `dnf … && dnf clean all`, `zypper … && zypper clean --all`, `pip install --no-cache-dir …`, `yarn install && yarn cache clean`; " +
			"or keep caches out of the layer with `RUN --mount=type=cache,target=/var/cache/apt …`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3009",
			"https://github.com/hadolint/hadolint/wiki/DL3015",
			"https://github.com/hadolint/hadolint/wiki/DL3019",
			"https://github.com/hadolint/hadolint/wiki/DL3032",
			"https://github.com/hadolint/hadolint/wiki/DL3036",
			"https://github.com/hadolint/hadolint/wiki/DL3040",
			"https://github.com/hadolint/hadolint/wiki/DL3042",
			"https://github.com/hadolint/hadolint/wiki/DL3060",
			"https://avd.aquasec.com/misconfig/ds029",
			"https://avd.aquasec.com/misconfig/ds025",
			"https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-di-0005",
			"https://docs.docker.com/build/cache/optimize/#use-cache-mounts",
		},
		Category: "dockerfile",
		Example: "RUN apt-get update \\\n && apt-get install -y --no-install-recommends ca-certificates=20230311 \\\n && rm -rf /var/lib/apt/lists/*\n" +
			"RUN pip install --no-cache-dir requests==2.32.3",
	}, run: checkCaches},
	{Rule: report.Rule{
		ID:       "DF010",
		Aliases:  []string{"DL3008", "DL3013", "DL3016", "DL3018", "DL3028", "DL3033", "DL3037", "DL3041", "DL3062", "DL3068"},
		Severity: report.Low,
		Title:    "Packages installed without a pinned version",
		Description: "An install without a version takes whatever the repository serves on build day, so two builds of the same Dockerfile produce different images, " +
			"a rebuild can silently pull a broken or compromised release, and a vulnerability report cannot be traced to a change in the Dockerfile. " +
			"Checked for apt-get/apt, apk, yum/dnf/microdnf (name-version, modules as name:stream), zypper, pip, npm, yarn/pnpm add, gem, go install/get/run and cargo install. " +
			"Files, directories, requirement and constraint files, lockfiles (`npm install` with no package) and VCS URLs at a ref count as pinned; " +
			"floating tags such as `@latest` do not. Operands held in variables are resolved from ARG/ENV defaults when possible and otherwise left alone.",
		Remediation: "Pin every package: `apt-get install curl=7.88.1-10+deb12u8`, `apk add curl=8.9.1-r0`, `dnf install curl-8.2.1`, `pip install requests==2.32.3` " +
			"(or a hashed requirements file), `npm install express@4.21.1` (or `npm ci` with a lockfile), `gem install rails:7.2.1`, `go install golang.org/x/tools/gopls@v0.16.2`. " +
			"Renovate or Dependabot can keep the pins current.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3008",
			"https://github.com/hadolint/hadolint/wiki/DL3013",
			"https://github.com/hadolint/hadolint/wiki/DL3016",
			"https://github.com/hadolint/hadolint/wiki/DL3018",
			"https://github.com/hadolint/hadolint/wiki/DL3028",
			"https://github.com/hadolint/hadolint/wiki/DL3033",
			"https://github.com/hadolint/hadolint/wiki/DL3037",
			"https://github.com/hadolint/hadolint/wiki/DL3041",
			"https://github.com/hadolint/hadolint/wiki/DL3062",
			"https://github.com/hadolint/hadolint/wiki/DL3068",
			"https://docs.docker.com/build/building/best-practices/#apt-get",
		},
		Category: "dockerfile",
		Example:  "RUN apk add --no-cache curl=8.9.1-r0 \\\n && pip install --no-cache-dir requests==2.32.3 \\\n && go install golang.org/x/tools/gopls@v0.16.2",
	}, run: checkUnpinned},
	{Rule: report.Rule{
		ID:       "DF012",
		Aliases:  []string{"DS-0004"},
		Severity: report.Medium,
		Title:    "SSH port exposed or SSH server installed",
		Description: "An SSH daemon in a container is a second way in that bypasses the orchestrator's access control and audit (`docker exec`, `kubectl exec`), " +
			"usually with long-lived keys or passwords baked into the image, and a second long-running process the entrypoint does not supervise. " +
			"Reported for EXPOSE of port 22 (also 22/tcp, ranges that include 22, and ports from ARG/ENV defaults), for installing openssh-server, dropbear or tinyssh, " +
			"and for CMD/ENTRYPOINT starting sshd, in the stages that make up the final image.",
		Remediation: "Remove EXPOSE 22 and the SSH server; get a shell with `docker exec -it` or `kubectl exec -it`, and copy files with `docker cp`/`kubectl cp`. " +
			"If the container really is an SSH endpoint (a bastion, a git server), suppress the finding with a reason.",
		References: []string{
			"https://avd.aquasec.com/misconfig/ds004",
			"https://docs.docker.com/reference/cli/docker/container/exec/",
		},
		Category: "dockerfile",
		Example:  "EXPOSE 8080\nCMD [\"/app\"]",
	}, run: checkSSH},
	{Rule: report.Rule{
		ID:       "DF100",
		Aliases:  []string{"DL3014", "DL3030", "DL3034", "DL3038", "DS-0021"},
		Severity: report.Low,
		Title:    "Package manager may wait for confirmation",
		Description: "apt-get, yum, dnf, microdnf and zypper ask \"Do you want to continue?\" before installing, upgrading or removing packages when more than the named packages change. " +
			"A build has no terminal, so the step aborts or hangs depending on the tool and on what the repository serves that day, which makes the build flaky rather than plainly broken.",
		Remediation: "Pass the non-interactive switch: `apt-get install -y` (or -qq), `yum install -y`, `dnf install -y`, `microdnf install -y`, `zypper --non-interactive install` (or `zypper install -y`).",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3014",
			"https://github.com/hadolint/hadolint/wiki/DL3030",
			"https://github.com/hadolint/hadolint/wiki/DL3034",
			"https://github.com/hadolint/hadolint/wiki/DL3038",
			"https://avd.aquasec.com/misconfig/ds021",
		},
		Category: "dockerfile",
		Example:  "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*",
	}, run: checkPrompts},
	{Rule: report.Rule{
		ID:       "DF101",
		Aliases:  []string{"DL3005", "DL3035", "DS-0024", "DKL-DI-0003"},
		Severity: report.Medium,
		Title:    "Distribution upgrade inside the build",
		Description: "apt-get dist-upgrade (full-upgrade) and zypper dist-upgrade may install, remove and replace packages wholesale, up to a new distribution release, based on whatever the mirrors serve on build day. " +
			"The result no longer matches the base image's tag, is not reproducible, and can break packages the base image's maintainers tested together.",
		Remediation: "Use a newer base image tag (or digest) instead. To pick up security fixes, rebuild on the refreshed base image, " +
			"or use `apt-get upgrade -y` / `zypper patch` which stay within the release.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3005",
			"https://github.com/hadolint/hadolint/wiki/DL3035",
			"https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-di-0003",
		},
		Category: "dockerfile",
		Example:  "FROM debian:12.8-slim\nRUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*",
	}, run: checkDistUpgrade},
	{Rule: report.Rule{
		ID:       "DF102",
		Aliases:  []string{"DL3027"},
		Severity: report.Low,
		Title:    "apt used in a build script",
		Description: "`apt` is apt's front end for people at a terminal: its output, progress bars and defaults may change between releases, and it warns that it has no stable command-line interface. " +
			"Scripts, and Dockerfiles are scripts, should use apt-get and apt-cache, whose behaviour is stable.",
		Remediation: "Replace `apt install` with `apt-get install`, `apt update` with `apt-get update`, `apt search`/`apt show` with `apt-cache search`/`apt-cache show`.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3027", "https://manpages.debian.org/bookworm/apt/apt.8.en.html#SCRIPT_USAGE_AND_DIFFERENCES_FROM_OTHER_APT_TOOLS"},
		Category:    "dockerfile",
		Example:     "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*",
	}, run: checkAptCLI},
}
