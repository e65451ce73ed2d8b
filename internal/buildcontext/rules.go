package buildcontext

import "github.com/charterhq/charter/internal/report"

const (
	refDockerignore = "https://docs.docker.com/build/concepts/context/#dockerignore-files"
	refMountDocs    = "https://docs.docker.com/build/building/secrets/"
	refBuildContext = "https://docs.docker.com/build/concepts/context/"
)

var ruleCTX001 = report.Rule{
	ID:       "CTX001",
	Severity: report.Critical,
	Title:    "Secret-bearing file copied into the image",
	Description: "A file that carries a credential, by its name (a private key, .env, .npmrc, cloud or " +
		"registry credentials…) or by its content (a token, a key, a password assignment), is copied " +
		"from the build context into the final image by COPY or ADD, directly or through a build stage " +
		"that the final stage copies from or is built on. Anyone who can pull the image can read it, " +
		"and it stays in its layer even if a later RUN deletes it.",
	Remediation: "Keep the file out of the image: add it to .dockerignore (or <Dockerfile>.dockerignore), " +
		"copy named paths instead of the whole context, or use COPY --exclude. Give the build its " +
		"credentials with RUN --mount=type=secret (or type=ssh) instead. Rotate the credential if an " +
		"image with it was ever pushed.",
	References: []string{refDockerignore, refMountDocs, "https://cwe.mitre.org/data/definitions/538.html"},
	Category:   "context",
	Example:    "# .dockerignore\n.env\n*.pem\n\n# Dockerfile\nRUN --mount=type=secret,id=npm,target=/root/.npmrc npm ci",
}

var ruleCTX002 = report.Rule{
	ID:       "CTX002",
	Severity: report.High,
	Title:    "Secret-bearing file sent in the build context",
	Description: "The file does not end up in the final image, but the builder receives it: it is " +
		"uploaded to remote builders, can land in intermediate stages and exported build cache, and " +
		"is one careless COPY . . away from the image. The classic builder uploads the whole context; " +
		"BuildKit uploads the paths the stages it builds reference.",
	Remediation: "Add the file to .dockerignore. If the build needs the credential, pass it with " +
		"RUN --mount=type=secret or --mount=type=ssh, which never writes it to a layer or the cache.",
	References: []string{refDockerignore, refMountDocs, "https://cwe.mitre.org/data/definitions/200.html"},
	Category:   "context",
}

var ruleCTX003 = report.Rule{
	ID:       "CTX003",
	Severity: report.Medium,
	Title:    ".git directory sent in the build context",
	Description: "The repository's history, remotes (sometimes with a token in the URL) and every secret " +
		"ever committed reach the builder, and COPY . . puts them in the image. It also makes every " +
		"commit invalidate the build cache.",
	Remediation: "Add .git to .dockerignore. If the build needs the commit, pass it as a build argument " +
		"(--build-arg GIT_COMMIT=$(git rev-parse HEAD)) or build from a Git URL context.",
	References: []string{refDockerignore, refBuildContext},
	Category:   "context",
	Example:    "# .dockerignore\n.git\n",
}

// Rules returns the metadata of the build-context rules.
func Rules() []report.Rule {
	return []report.Rule{ruleCTX001, ruleCTX002, ruleCTX003}
}
