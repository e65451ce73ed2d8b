package dockerfile

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// instructionChecks are the rules about instructions themselves: base images, users,
// secrets, ADD/COPY, ports, labels, CMD/ENTRYPOINT, stage references.
var instructionChecks = []check{
	// Catalog rules.
	checkRootUser, checkBaseTag, checkBaseDigest, checkSecretEnvArg, checkWholeContext,
	checkRemoteAdd, checkWorldWritable, checkNoHealthcheck, checkDockerSocket, checkAllowedBase,
	// Rules shared with hadolint.
	checkIgnorePragma, checkRelativeWorkdir, checkCopyThenExtract, checkPortRange,
	checkMultipleHealthcheck, checkAddLocal, checkCopyMultiDest, checkCopyFromUnknown,
	checkCopyFromSelf, checkDuplicateStage, checkShellFormCmd, checkTrustedRegistry,
	checkFromPlatform, checkOnbuildTrigger, checkEnvSelfRef, checkCopyNoWorkdir,
	checkBeforeFrom, checkMaintainer, checkMultipleCmd, checkMultipleEntrypoint,
}

const (
	hadolintWiki = "https://github.com/hadolint/hadolint/wiki/"
	dockerRef    = "https://docs.docker.com/reference/dockerfile/"
	catDocker    = "dockerfile"
)

// ---------------------------------------------------------------------------------------
// Shared helpers. Names carry their subject so they stay clear in a package shared by
// several rule files.

// baseKind says what a FROM line starts from.
type baseKind int

const (
	baseImage      baseKind = iota // an image pulled from a registry
	baseScratch                    // the empty image
	baseStage                      // an earlier stage of the same file
	baseUnresolved                 // a variable without a default: known only at build time
)

// stageBase returns the image a stage is built on, with global ARG defaults applied.
func stageBase(f *File, st *Stage) (string, baseKind) {
	if st.BaseStage != nil {
		return "", baseStage
	}
	ref, ok := expandGlobalArgs(f, st.Base)
	switch {
	case !ok || ref == "":
		return "", baseUnresolved
	case strings.EqualFold(ref, "scratch"):
		return ref, baseScratch
	}
	return ref, baseImage
}

// reBareVar matches $NAME and ${NAME}: references with no default (${NAME:-x} has one).
var reBareVar = regexp.MustCompile(`\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})`)

// expandGlobalArgs expands word with the defaults of the ARGs declared before the first
// FROM, the only ones a FROM line sees. ok is false when the word uses a variable that has
// no default and no fallback, so its value is decided by --build-arg alone.
func expandGlobalArgs(f *File, word string) (string, bool) {
	if !strings.Contains(word, "$") {
		return word, true
	}
	vars := map[string]string{}
	for _, ins := range f.Global {
		if ins.Cmd != "ARG" {
			continue
		}
		for _, kv := range ArgPairs(ins) {
			if kv.HasValue {
				vars[kv.Key] = kv.Value
			} else {
				delete(vars, kv.Key)
			}
		}
	}
	res, err := shell.NewLex(f.Escape).ProcessWordWithMatches(word, mapEnv(vars))
	if err != nil {
		return "", false
	}
	for _, m := range reBareVar.FindAllStringSubmatch(word, -1) {
		name := m[1] + m[2]
		if _, unknown := res.Unmatched[name]; unknown {
			return "", false
		}
	}
	return res.Result, true
}

// envKeyValues returns the NAME=value pairs of ENV (or LABEL). BuildKit keeps each pair
// as three words (name, value, separator); the values keep their outer quotes there.
func envKeyValues(ins *Instruction) []KeyValue {
	a := ins.Args
	triples := len(a)%3 == 0
	for i := 2; triples && i < len(a); i += 3 {
		triples = a[i] == "=" || a[i] == ""
	}
	if !triples {
		return EnvPairs(ins)
	}
	out := make([]KeyValue, 0, len(a)/3)
	for i := 0; i+2 < len(a); i += 3 {
		out = append(out, KeyValue{Key: unquote(a[i]), Value: unquote(a[i+1]), HasValue: true})
	}
	return out
}

// copyPaths splits COPY/ADD arguments into sources and destination, quotes removed. The
// shell form splits on blanks even inside quotes ("C:\Program Files\x" is two words), so
// quotes are trimmed from each end separately.
func copyPaths(ins *Instruction) (srcs []string, dest string, ok bool) {
	if len(ins.Args) < 2 {
		return nil, "", false
	}
	for _, a := range ins.Args[:len(ins.Args)-1] {
		srcs = append(srcs, trimQuotes(a))
	}
	return srcs, trimQuotes(ins.Args[len(ins.Args)-1]), true
}

func trimQuotes(s string) string { return strings.Trim(s, `"'`) }

// isAbsolutePath accepts POSIX absolute paths, Windows drive paths (C:\ or C:/) and paths
// that start with a variable, whose value is unknown here.
func isAbsolutePath(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") {
		return true
	}
	return len(p) >= 3 && isASCIILetter(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

func isASCIILetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// archiveSuffixes are the compressed tarballs that ADD extracts on its own.
var archiveSuffixes = []string{".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2",
	".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz", ".xz"}

func isTarballName(p string) bool {
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// fileBase is the last element of a POSIX or Windows path.
func fileBase(p string) string {
	p = trimQuotes(p)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func isHTTPURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// isGitSource recognises the Git sources ADD accepts: git@host:repo, git:// and ssh://
// URLs, and http(s) URLs of a repository ending in .git (optionally with #ref).
func isGitSource(s string) bool {
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "git@") || strings.HasPrefix(l, "git://") || strings.HasPrefix(l, "ssh://") {
		return true
	}
	if !isHTTPURL(l) {
		return false
	}
	repo, _, _ := strings.Cut(l, "#")
	return strings.HasSuffix(repo, ".git")
}

var reCommitRef = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// gitPinnedToCommit reports whether a Git source names a full commit hash (#<sha>[:dir]).
func gitPinnedToCommit(s string) bool {
	_, frag, ok := strings.Cut(s, "#")
	if !ok {
		return false
	}
	ref, _, _ := strings.Cut(frag, ":")
	return reCommitRef.MatchString(strings.ToLower(ref))
}

// stageDisplayName names a stage in messages: its alias, or its index.
func stageDisplayName(st *Stage) string {
	if st.Name != "" {
		return strconv.Quote(st.Name)
	}
	return strconv.Itoa(st.Index)
}

// setLastSeverity adjusts the severity of the finding just reported, for the rare case
// where one rule's finding matters less in one situation (a stage that is not the final
// image).
func setLastSeverity(c *Context, sev report.Severity) {
	if n := len(c.findings); n > 0 {
		c.findings[n-1].Severity = sev
	}
}

// ---------------------------------------------------------------------------------------
// DF001: the final stage runs as root.

var checkRootUser = check{
	Rule: report.Rule{
		ID: "DF001", Aliases: []string{"DL3002", "DL3063", "DS-0002", "CIS-DI-0001"}, Severity: report.High,
		Title: "Final stage runs as root",
		Description: "The image's default user is what every container started from it runs as, " +
			"unless the runtime overrides it. Running as root turns any code-execution bug into full " +
			"control of the container, and together with a kernel or runtime flaw or a mounted host " +
			"path it becomes a host compromise. A final stage with no USER runs as its base image's " +
			"user, which is root for almost every base; a final stage built FROM an earlier stage " +
			"inherits that stage's USER. An earlier stage left as USER root is reported at MEDIUM: " +
			"it becomes the image when built with --target. A scratch-based final stage with no CMD " +
			"or ENTRYPOINT is an artifact image (files to export, not a program) and is not reported.",
		Remediation: "Create an unprivileged user and switch to it at the end of the final stage " +
			"(USER 65532:65532, or a named user created with useradd/adduser). Use a numeric UID so " +
			"Kubernetes runAsNonRoot can verify it. Base images whose tag says nonroot already do this.",
		References: []string{dockerRef + "#user", hadolintWiki + "DL3002", hadolintWiki + "DL3063",
			"https://avd.aquasec.com/misconfig/ds002", "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#cis-di-0001"},
		Category: catDocker,
		Example:  "FROM debian:12-slim\nRUN useradd --uid 10001 --no-create-home app\nUSER 10001:10001",
	},
	run: runRootUser,
}

func runRootUser(c *Context) {
	final := c.File.Final()
	userIns, owner := effectiveUser(final)
	var reported *Instruction
	switch {
	case userIns == nil:
		root := final.Root()
		if baseDefaultsToNonRoot(root) || isArtifactImage(final) {
			break
		}
		base := "scratch"
		if !root.IsScratch() {
			base = root.BaseExpanded
		}
		aliases := []string{"DS-0002", "CIS-DI-0001"}
		if !hasAnyUser(c.File) {
			aliases = append(aliases, "DL3063")
		}
		c.ReportWith(final.From, aliases,
			fmt.Sprintf("the final stage sets no USER, so containers run as the default user of %s: root", base), "")
	case isRootUser(userArg(userIns)):
		reported = userIns
		msg := fmt.Sprintf("the final stage runs as root (USER %s)", userArg(userIns))
		if owner != final {
			msg = fmt.Sprintf("the final stage inherits USER %s from stage %s and runs as root", userArg(userIns), stageDisplayName(owner))
		}
		c.ReportWith(userIns, []string{"DL3002", "DS-0002", "CIS-DI-0001"}, msg, "")
	}
	for _, st := range c.File.Stages[:len(c.File.Stages)-1] {
		u := lastUser(st)
		if u == nil || u == reported || !isRootUser(userArg(u)) {
			continue
		}
		msg := fmt.Sprintf("stage %s ends as USER %s", stageDisplayName(st), userArg(u))
		if st.Name != "" {
			msg += fmt.Sprintf(": built with --target %s, the image runs as root", st.Name)
		}
		c.ReportWith(u, []string{"DL3002"}, msg, "")
		setLastSeverity(c, report.Medium)
	}
}

// hasAnyUser reports whether any stage of the file has a USER instruction (hadolint's
// DL3063 asks only that).
func hasAnyUser(f *File) bool {
	for _, st := range f.Stages {
		if lastUser(st) != nil {
			return true
		}
	}
	return false
}

// lastUser returns the stage's last USER instruction (ONBUILD USER applies to child images
// only), or nil.
func lastUser(st *Stage) *Instruction {
	var last *Instruction
	for _, ins := range st.Instructions {
		if ins.Cmd == "USER" {
			last = ins
		}
	}
	return last
}

// effectiveUser follows FROM <stage> links to the USER that decides who the stage runs as.
func effectiveUser(st *Stage) (*Instruction, *Stage) {
	for s := st; s != nil; s = s.BaseStage {
		if u := lastUser(s); u != nil {
			return u, s
		}
	}
	return nil, nil
}

func userArg(u *Instruction) string {
	if len(u.Args) == 0 {
		return ""
	}
	return unquote(u.Args[0])
}

// isRootUser: root or UID 0, with or without a group. A variable is not presumed root.
func isRootUser(spec string) bool {
	user, _, _ := strings.Cut(spec, ":")
	return user == "root" || user == "0"
}

// baseDefaultsToNonRoot trusts base images that say so in their reference
// (gcr.io/distroless/static:nonroot, bitnami/*:rootless…): their config sets a non-root
// USER. Windows Nano Server runs as the unprivileged ContainerUser by default.
func baseDefaultsToNonRoot(root *Stage) bool {
	ref := strings.ToLower(root.BaseExpanded)
	return strings.Contains(ref, "nonroot") || strings.Contains(ref, "rootless") || strings.Contains(ref, "nanoserver")
}

// isArtifactImage reports whether the final stage is scratch-based with no CMD or
// ENTRYPOINT (its own or inherited): an image of files to copy out or export, not a
// program to run.
func isArtifactImage(final *Stage) bool {
	if !final.Root().IsScratch() {
		return false
	}
	for s := final; s != nil; s = s.BaseStage {
		for _, ins := range s.Instructions {
			if ins.Cmd == "CMD" || ins.Cmd == "ENTRYPOINT" {
				return false
			}
		}
	}
	return true
}

// ---------------------------------------------------------------------------------------
// DF002: base image :latest or untagged. DF003: base image not pinned by digest.

var checkBaseTag = check{
	Rule: report.Rule{
		ID: "DF002", Aliases: []string{"DL3006", "DL3007", "DS-0001"}, Severity: report.High,
		Title: "Base image uses :latest or no tag",
		Description: "A base image without a tag means :latest, and :latest is whatever the publisher " +
			"pushed last. Two builds of the same Dockerfile can then start from different operating " +
			"systems, library versions and users, so a build that passed review and scanning is not " +
			"the build that ships. ARG defaults are applied before deciding; a base chosen entirely " +
			"by --build-arg is not reported.",
		Remediation: "Name a specific version tag (debian:12.7-slim, node:22.11-alpine3.20) and, for " +
			"reproducible builds, pin the digest as well: debian:12.7-slim@sha256:….",
		References: []string{dockerRef + "#from", hadolintWiki + "DL3006", hadolintWiki + "DL3007",
			"https://avd.aquasec.com/misconfig/ds001"},
		Category: catDocker,
		Example:  "FROM python:3.12.7-slim-bookworm",
	},
	run: runBaseTag,
}

func runBaseTag(c *Context) {
	for _, st := range c.File.Stages {
		ref, kind := stageBase(c.File, st)
		if kind != baseImage {
			continue
		}
		r := ParseImageRef(ref)
		if r.Digest != "" {
			continue
		}
		// hadolint reads the reference as written; its IDs ride along only when that
		// reading gives the same answer.
		literal := !strings.Contains(st.Base, "$")
		switch r.Tag {
		case "":
			aliases := []string{"DS-0001"}
			if literal {
				aliases = append(aliases, "DL3006")
			}
			c.ReportWith(st.From, aliases, fmt.Sprintf(
				"base image %s has no tag, so it is %s:latest, whatever that is on the day of the build", ref, r.Name), "")
		case "latest":
			aliases := []string{"DS-0001"}
			if literal {
				aliases = append(aliases, "DL3007")
			}
			c.ReportWith(st.From, aliases, fmt.Sprintf(
				"base image %s uses the moving :latest tag", ref), "")
		}
	}
}

var checkBaseDigest = check{
	Rule: report.Rule{
		ID: "DF003", Severity: report.Medium,
		Title: "Base image not pinned by digest",
		Description: "A tag is a mutable pointer: the publisher, or anyone who compromises their " +
			"registry account, can point it at different content at any time. Only a digest names " +
			"exactly one image, which is what makes a build reproducible and an audited base stay " +
			"audited. Every stage counts, since builder stages produce the binaries that ship.",
		Remediation: "Append the digest to the reference (FROM golang:1.23.3@sha256:…) and let a bot " +
			"such as Renovate or Dependabot update tag and digest together.",
		References: []string{dockerRef + "#from",
			"https://docs.docker.com/build/building/best-practices/#pin-base-image-versions"},
		Category: catDocker,
		Example:  "FROM gcr.io/distroless/static-debian12:nonroot@sha256:<digest>",
	},
	run: runBaseDigest,
}

func runBaseDigest(c *Context) {
	for _, st := range c.File.Stages {
		ref, kind := stageBase(c.File, st)
		if kind != baseImage || ParseImageRef(ref).Digest != "" {
			continue
		}
		c.Report(st.From, fmt.Sprintf("base image %s is not pinned by digest: the tag can be moved to other content", ref))
	}
}

// ---------------------------------------------------------------------------------------
// DF004: secrets in ENV or ARG.

var checkSecretEnvArg = check{
	Rule: report.Rule{
		ID: "DF004", Aliases: []string{"DL3064", "DS-0031", "CIS-DI-0010"}, Severity: report.Critical,
		Title: "Secret in ENV or ARG",
		Description: "ENV values are stored in the image configuration, readable by anyone who can " +
			"pull the image and by every process in every container. Build arguments are recorded " +
			"in the image history and the build cache, so a secret passed with --build-arg leaks " +
			"the same way even when no default is written down. Found by the variable's name " +
			"(DB_PASSWORD, NPM_TOKEN) or by a value that looks like a credential.",
		Remediation: "Pass build-time secrets with BuildKit secret mounts (RUN --mount=type=secret," +
			"id=npm_token …, docker build --secret id=npm_token,env=NPM_TOKEN) and give runtime " +
			"secrets to the container at start (orchestrator secrets, mounted files), never in the image.",
		References: []string{"https://docs.docker.com/build/building/secrets/", dockerRef + "#arg", hadolintWiki + "DL3064",
			"https://avd.aquasec.com/misconfig/ds031"},
		Category: catDocker,
		Example:  "RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci",
	},
	run: runSecretEnvArg,
}

func runSecretEnvArg(c *Context) {
	c.File.Each(func(ins *Instruction) {
		var pairs []KeyValue
		switch ins.Cmd {
		case "ENV":
			pairs = envKeyValues(ins)
		case "ARG":
			pairs = ArgPairs(ins)
		default:
			return
		}
		for _, kv := range pairs {
			reportSecretPair(c, ins, kv)
		}
	})
}

func reportSecretPair(c *Context, ins *Instruction, kv KeyValue) {
	literal := kv.Value != "" && !strings.Contains(kv.Value, "$")
	evidence := ""
	if literal {
		evidence = secrets.Redact(kv.Value)
	}
	if secrets.IsSecretName(kv.Key) {
		switch {
		case ins.Cmd == "ARG":
			c.ReportEvidence(ins, fmt.Sprintf(
				"ARG %s declares a secret build argument: its value is recorded in the image history and build cache", kv.Key), evidence)
			return
		case kv.Value != "":
			c.ReportEvidence(ins, fmt.Sprintf(
				"ENV %s puts a secret in the image configuration, readable by anyone who pulls the image", kv.Key), evidence)
			return
		}
	}
	if kv.Value == "" {
		return
	}
	if m := secrets.ScanString(kv.Value); len(m) > 0 {
		c.ReportWith(ins, []string{"DS-0031", "CIS-DI-0010"},
			fmt.Sprintf("%s %s holds what looks like a %s", ins.Cmd, kv.Key, m[0].Title), secrets.Redact(m[0].Value))
	}
}

// ---------------------------------------------------------------------------------------
// DF005: whole build context copied while there is no .dockerignore.

var checkWholeContext = check{
	Rule: report.Rule{
		ID: "DF005", Severity: report.High,
		Title: "Whole build context copied without a .dockerignore",
		Description: "COPY . . (or ADD . /dir, COPY * ./) copies everything in the build context " +
			"into a layer. With no .dockerignore that includes .git with its history, .env files, " +
			"local credentials, test data and build output, and every layer stays readable in the " +
			"image even if a later step deletes the files. Reported only when charter knows the " +
			"context has no .dockerignore.",
		Remediation: "Add a .dockerignore that excludes .git, .env*, secrets, node_modules and build " +
			"output, or copy only what the image needs (COPY go.mod go.sum ./ then COPY cmd/ ./cmd/).",
		References: []string{"https://docs.docker.com/build/concepts/context/#dockerignore-files", dockerRef + "#copy"},
		Category:   catDocker,
		Example:    "# .dockerignore\n.git\n.env*\n**/*.pem\nnode_modules",
	},
	run: runWholeContext,
}

func runWholeContext(c *Context) {
	if c.Config.HasDockerignore == nil || *c.Config.HasDockerignore {
		return
	}
	for _, ins := range c.File.Instructions {
		if ins.Cmd != "COPY" && ins.Cmd != "ADD" {
			continue
		}
		if _, from := ins.Flag("from"); from {
			continue
		}
		srcs, _, ok := copyPaths(ins)
		if !ok {
			continue
		}
		for _, s := range srcs {
			switch s {
			case ".", "./", "*", "./*":
				c.Report(ins, fmt.Sprintf("%s %s copies the whole build context and there is no .dockerignore", ins.Cmd, s))
				return
			}
		}
	}
}

// ---------------------------------------------------------------------------------------
// DF006: ADD <url> without --checksum.

var checkRemoteAdd = check{
	Rule: report.Rule{
		ID: "DF006", Severity: report.Medium,
		Title: "ADD of a remote URL without --checksum",
		Description: "ADD with an http(s) or Git source downloads at build time and trusts whatever " +
			"the server returns. A compromised server, a moved tag or a man in the middle then puts " +
			"different code into the image with no change to the Dockerfile. A Git source pinned to " +
			"a full commit hash is content-addressed and is not reported.",
		Remediation: "Add --checksum=sha256:<hash> to ADD (BuildKit verifies it), pin Git sources to " +
			"a commit hash, or download in RUN and verify with sha256sum -c.",
		References: []string{dockerRef + "#add---checksum", dockerRef + "#adding-files-from-a-git-repository"},
		Category:   catDocker,
		Example:    "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /opt/",
	},
	run: runRemoteAdd,
}

func runRemoteAdd(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "ADD" {
			return
		}
		if _, ok := ins.Flag("checksum"); ok {
			return
		}
		srcs, _, ok := copyPaths(ins)
		if !ok {
			return
		}
		for _, s := range srcs {
			switch {
			case isGitSource(s):
				if gitPinnedToCommit(s) {
					continue
				}
				c.Report(ins, fmt.Sprintf("ADD %s fetches a Git repository by a movable ref; pin a commit hash or add --checksum", s))
				return
			case isHTTPURL(s):
				c.Report(ins, fmt.Sprintf("ADD %s downloads without --checksum, so the build trusts whatever the server returns", s))
				return
			}
		}
	})
}

// ---------------------------------------------------------------------------------------
// DF013: world-writable permissions.

var checkWorldWritable = check{
	Rule: report.Rule{
		ID: "DF013", Severity: report.Medium,
		Title: "World-writable permissions",
		Description: "A file or directory that every user can write lets any process in the " +
			"container, whatever user it runs as, replace binaries, scripts or configuration that " +
			"others then execute or trust. chmod 777 is usually a shortcut around an ownership " +
			"problem. Sticky-bit modes such as 1777 (the convention for /tmp) are not reported.",
		Remediation: "Give ownership to the user that needs to write (COPY --chown=app:app, chown) " +
			"and use 755 for directories and 644 for files, or 1777 for a shared scratch directory.",
		References: []string{dockerRef + "#copy---chown---chmod", "https://man7.org/linux/man-pages/man1/chmod.1.html"},
		Category:   catDocker,
		Example:    "COPY --chown=10001:10001 --chmod=755 entrypoint.sh /usr/local/bin/",
	},
	run: runWorldWritable,
}

func runWorldWritable(c *Context) {
	c.File.Each(func(ins *Instruction) {
		switch ins.Cmd {
		case "COPY", "ADD":
			if mode, ok := ins.Flag("chmod"); ok && worldWritable(mode) {
				c.Report(ins, fmt.Sprintf("%s --chmod=%s makes the copied files writable by every user", ins.Cmd, mode))
			}
		case "RUN":
			if msg := worldWritableCommand(ins.Script()); msg != "" {
				c.Report(ins, msg)
			}
		}
	})
}

// worldWritableCommand explains the first command of a RUN that makes paths world-writable.
// Paths the same RUN deletes again (a scratch directory from mktemp) leave nothing behind.
func worldWritableCommand(s *Script) string {
	removed := map[string]bool{}
	for _, cmd := range s.Commands {
		if u := cmd.Unwrapped(); u.Name == "rm" {
			for _, p := range u.Positionals() {
				removed[p] = true
			}
		}
	}
	for _, cmd := range s.Commands {
		u := cmd.Unwrapped()
		switch u.Name {
		case "chmod":
			pos := u.Positionals()
			if len(pos) >= 2 && allIn(pos[1:], removed) {
				continue
			}
			if len(pos) >= 1 && worldWritable(pos[0]) {
				return fmt.Sprintf("chmod %s %s makes %s writable by every user", pos[0], strings.Join(pos[1:], " "), targetsText(pos[1:]))
			}
		case "mkdir", "install":
			if mode, ok := u.FlagValue("m", "mode"); ok && worldWritable(mode) {
				return fmt.Sprintf("%s with mode %s creates paths writable by every user", u.Name, mode)
			}
		}
	}
	return ""
}

func allIn(items []string, set map[string]bool) bool {
	for _, it := range items {
		if !set[it] {
			return false
		}
	}
	return true
}

func targetsText(paths []string) string {
	if len(paths) == 0 {
		return "the target"
	}
	return strings.Join(paths, ", ")
}

// worldWritable reports whether a chmod mode (octal or symbolic) grants write permission to
// others. Modes with the sticky bit (1777, +t) are the shared-directory convention and pass.
func worldWritable(mode string) bool {
	mode = unquote(strings.TrimSpace(mode))
	if mode == "" {
		return false
	}
	if strings.Trim(mode, "01234567") == "" {
		v, err := strconv.ParseUint(mode, 8, 32)
		return err == nil && v&0o002 != 0 && v&0o1000 == 0
	}
	for _, clause := range strings.Split(mode, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 || strings.Trim(clause[:i], "ugoa") != "" {
			continue
		}
		others := strings.ContainsAny(clause[:i], "oa")
		for rest := clause[i:]; rest != ""; {
			op := rest[0]
			j := strings.IndexAny(rest[1:], "+-=")
			perms := rest[1:]
			if j >= 0 {
				perms, rest = rest[1:j+1], rest[j+1:]
			} else {
				rest = ""
			}
			if others && op != '-' && strings.Contains(perms, "w") && !strings.Contains(perms, "t") {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------------------
// DF014: no HEALTHCHECK in the final stage.

var checkNoHealthcheck = check{
	Rule: report.Rule{
		ID: "DF014", Aliases: []string{"DL3057", "DS-0026", "CIS-DI-0006"}, Severity: report.Low,
		Title: "No HEALTHCHECK",
		Description: "Without a HEALTHCHECK, Docker, Compose and Swarm only know whether the process " +
			"exists, not whether it still serves: a deadlocked server stays 'running' forever. " +
			"Kubernetes ignores HEALTHCHECK and uses probes, so HEALTHCHECK NONE is an explicit, " +
			"accepted decision. A final stage FROM scratch with no CMD or ENTRYPOINT is an artifact " +
			"image (files to copy out, not a service) and is not reported.",
		Remediation: "Add a HEALTHCHECK that exercises the service (HEALTHCHECK CMD [\"/app\", \"-health\"]) " +
			"or, when an orchestrator's probes do the job, write HEALTHCHECK NONE to record the decision.",
		References: []string{dockerRef + "#healthcheck", hadolintWiki + "DL3057", "https://avd.aquasec.com/misconfig/ds026",
			"https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#cis-di-0006"},
		Category: catDocker,
		Example:  "HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app\", \"healthcheck\"]",
	},
	run: runNoHealthcheck,
}

func runNoHealthcheck(c *Context) {
	final := c.File.Final()
	for s := final; s != nil; s = s.BaseStage {
		for _, ins := range s.Instructions {
			if ins.Cmd == "HEALTHCHECK" {
				return
			}
		}
	}
	if isArtifactImage(final) {
		return
	}
	c.Report(final.From, "the final stage has no HEALTHCHECK (write HEALTHCHECK NONE if probes cover it)")
}

// ---------------------------------------------------------------------------------------
// DF015: the Docker socket is referenced.

var checkDockerSocket = check{
	Rule: report.Rule{
		ID: "DF015", Severity: report.High,
		Title: "Docker socket referenced",
		Description: "Access to /var/run/docker.sock is root on the host: whoever can talk to the " +
			"daemon can start a privileged container that mounts the host filesystem. An image that " +
			"declares the socket as a VOLUME, copies it or scripts against it is built to be run " +
			"with the host's daemon mounted in.",
		Remediation: "Do not give containers the Docker socket. Build images with BuildKit or a " +
			"daemonless builder, and for tools that must talk to a daemon, use a rootless daemon or a " +
			"socket proxy that allows only the API calls they need.",
		References: []string{"https://docs.docker.com/engine/security/#docker-daemon-attack-surface",
			"https://docs.docker.com/engine/security/protect-access/"},
		Category: catDocker,
		Example:  "# no VOLUME /var/run/docker.sock; build with BuildKit instead of docker-in-docker",
	},
	run: runDockerSocket,
}

const dockerSocketPath = "/run/docker.sock" // matches /var/run/docker.sock too

func runDockerSocket(c *Context) {
	c.File.Each(func(ins *Instruction) {
		var text []string
		switch ins.Cmd {
		case "VOLUME", "COPY", "ADD":
			text = ins.Args
		case "ENV":
			for _, kv := range envKeyValues(ins) {
				text = append(text, kv.Value)
			}
		case "RUN":
			text = append(text, ins.Original)
			text = append(text, ins.Flags...)
			for _, h := range ins.Heredocs {
				text = append(text, h.Content)
			}
		default:
			return
		}
		for _, t := range text {
			if strings.Contains(t, dockerSocketPath) {
				c.Report(ins, fmt.Sprintf("%s references the Docker socket, which gives root on the host", ins.Cmd))
				return
			}
		}
	})
}

// ---------------------------------------------------------------------------------------
// DF016: base image outside the charter's allowed bases.

var checkAllowedBase = check{
	Rule: report.Rule{
		ID: "DF016", Severity: report.High,
		Title: "Base image not in the allowed list",
		Description: "The charter file's image.base.allow names the base images a team has reviewed " +
			"and keeps patched. A stage built on anything else brings in an operating system and " +
			"packages nobody signed off on. A base chosen only by --build-arg cannot be verified and " +
			"is reported too; stages built on earlier stages, and scratch, are exempt.",
		Remediation: "Use one of the allowed bases, or add the image to image.base.allow in charter.yaml " +
			"after review. Patterns are globs where * matches any text; a pattern without a tag or " +
			"digest allows every tag of that repository.",
		References: []string{dockerRef + "#from"},
		Category:   catDocker,
		Example:    "# charter.yaml: image: { base: { allow: [\"gcr.io/distroless/static-debian12@sha256:*\"] } }\nFROM gcr.io/distroless/static-debian12@sha256:<digest>",
	},
	run: runAllowedBase,
}

func runAllowedBase(c *Context) {
	allow := c.Config.AllowedBases
	if len(allow) == 0 {
		return
	}
	for _, st := range c.File.Stages {
		ref, kind := stageBase(c.File, st)
		switch kind {
		case baseUnresolved:
			c.Report(st.From, fmt.Sprintf("base image %s is set by a build argument and cannot be checked against the allowed bases", st.Base))
		case baseImage:
			if !baseAllowed(ref, allow) {
				c.Report(st.From, fmt.Sprintf("base image %s is not in the allowed bases (%s)", ref, strings.Join(allow, ", ")))
			}
		}
	}
}

func baseAllowed(ref string, patterns []string) bool {
	forms := []string{ref, normalizeImageRef(ref)}
	for _, p := range patterns {
		pr := ParseImageRef(p)
		repoOnly := pr.Tag == "" && pr.Digest == "" && !strings.Contains(p, "*")
		for _, form := range forms {
			if repoOnly {
				form = ParseImageRef(form).Name
			}
			if globMatch(p, form) {
				return true
			}
		}
	}
	return false
}

// normalizeImageRef spells a Docker Hub reference in full: debian:12 → docker.io/library/debian:12.
func normalizeImageRef(ref string) string {
	r := ParseImageRef(ref)
	name := r.Name
	if r.Registry() == "docker.io" {
		name = strings.TrimPrefix(name, "docker.io/")
		if !strings.Contains(name, "/") {
			name = "library/" + name
		}
		name = "docker.io/" + name
	}
	if r.Tag != "" {
		name += ":" + r.Tag
	}
	if r.Digest != "" {
		name += "@" + r.Digest
	}
	return name
}

// globMatch matches s against a pattern where * is any run of characters (slashes
// included) and ? is one character.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// ---------------------------------------------------------------------------------------
// Rules shared with hadolint (charter IDs DF017 onwards).

// DF017 (DL1001): inline ignore pragmas.
var checkIgnorePragma = check{
	Rule: report.Rule{
		ID: "DF017", Aliases: []string{"DL1001"}, Severity: report.Info,
		Title: "Inline ignore pragma",
		Description: "An inline ignore silences a rule where the code is, out of sight of whoever " +
			"reviews the policy, and a hadolint pragma records no reason and never expires. Teams " +
			"that keep exceptions in charter.yaml (with a reason and an expiry date) can use this " +
			"rule to find the ones that escaped. charter's own pragmas are reported only when they " +
			"give no reason.",
		Remediation: "Move the exception to charter.yaml's policy.ignore with a reason and an expiry, " +
			"or at least write it as # charter ignore=ID reason.",
		References: []string{hadolintWiki + "DL1001"},
		Category:   catDocker,
		Example:    "# charter ignore=DF010 pinned through the distro's snapshot mirror",
	},
	run: runIgnorePragma,
}

func runIgnorePragma(c *Context) {
	// Heredoc bodies are file content, not Dockerfile comments.
	inBody := map[int]bool{}
	for _, ins := range c.File.Instructions {
		if len(ins.Heredocs) > 0 || (ins.Inner != nil && len(ins.Inner.Heredocs) > 0) {
			for n := ins.Line + 1; n <= ins.EndLine; n++ {
				inBody[n] = true
			}
		}
	}
	for i, line := range c.File.Lines {
		if !strings.Contains(line, "ignore") || inBody[i+1] {
			continue
		}
		m := rePragma.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at := &Instruction{Cmd: "#", Original: strings.TrimSpace(line), Line: i + 1, EndLine: i + 1}
		switch {
		case m[1] == "hadolint" && m[2] == "":
			c.ReportWith(at, []string{"DL1001"}, "inline hadolint ignore pragma for "+strings.TrimSpace(m[3]), "")
		case m[1] == "hadolint":
			c.ReportWith(at, nil, "global hadolint ignore pragma for "+strings.TrimSpace(m[3]), "")
		case strings.TrimSpace(m[4]) == "":
			c.ReportWith(at, nil, "charter ignore pragma for "+strings.TrimSpace(m[3])+" gives no reason", "")
		}
	}
}

// DF018 (DL3000): relative WORKDIR.
var checkRelativeWorkdir = check{
	Rule: report.Rule{
		ID: "DF018", Aliases: []string{"DL3000", "DS-0009"}, Severity: report.Medium,
		Title: "WORKDIR is not absolute",
		Description: "A relative WORKDIR is resolved against the previous working directory, which " +
			"may come from the base image and change with it. The resulting path is invisible in " +
			"the Dockerfile, and COPY and RUN then write somewhere nobody intended.",
		Remediation: "Write the full path: WORKDIR /app.",
		References:  []string{dockerRef + "#workdir", hadolintWiki + "DL3000", "https://avd.aquasec.com/misconfig/ds009"},
		Category:    catDocker,
		Example:     "WORKDIR /usr/src/app",
	},
	run: runRelativeWorkdir,
}

func runRelativeWorkdir(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "WORKDIR" || len(ins.Args) == 0 {
			return
		}
		dir := unquote(strings.Join(ins.Args, " "))
		if dir != "" && !isAbsolutePath(dir) {
			c.Report(ins, fmt.Sprintf("WORKDIR %s is relative; write the absolute path", dir))
		}
	})
}

// DF019 (DL3010): an archive is COPY'd and then extracted by RUN.
var checkCopyThenExtract = check{
	Rule: report.Rule{
		ID: "DF019", Aliases: []string{"DL3010"}, Severity: report.Info,
		Title: "Archive copied, then extracted in RUN",
		Description: "Copying a tarball and unpacking it in a later RUN stores the archive in one " +
			"layer and its contents in another, so the image carries both. ADD extracts local " +
			"tar archives (gzip, bzip2, xz) in a single step.",
		Remediation: "Use ADD app.tar.gz /opt/app/ for local archives, or extract in a build stage " +
			"and COPY --from the result.",
		References: []string{dockerRef + "#add", hadolintWiki + "DL3010"},
		Category:   catDocker,
		Example:    "ADD packaged-app.tar.gz /usr/src/app/",
	},
	run: runCopyThenExtract,
}

func runCopyThenExtract(c *Context) {
	for _, st := range c.File.Stages {
		copied := map[string]*Instruction{}
		done := map[*Instruction]bool{}
		for _, ins := range st.Instructions {
			switch ins.Cmd {
			case "COPY":
				rememberCopiedArchives(ins, copied)
			case "RUN":
				for _, cmd := range ins.Script().Commands {
					u := cmd.Unwrapped()
					if !isExtractCommand(u) {
						continue
					}
					for _, a := range u.Positionals() {
						from := copied[fileBase(a)]
						if from == nil || done[from] {
							continue
						}
						done[from] = true
						c.Report(from, fmt.Sprintf("%s is copied here and extracted by %s at line %d; ADD would extract it in one layer",
							fileBase(a), u.Name, ins.Line))
					}
				}
			}
		}
	}
}

func rememberCopiedArchives(ins *Instruction, copied map[string]*Instruction) {
	if _, from := ins.Flag("from"); from {
		return
	}
	srcs, dest, ok := copyPaths(ins)
	if !ok {
		return
	}
	if isTarballName(dest) {
		copied[fileBase(dest)] = ins
		return
	}
	for _, s := range srcs {
		if isTarballName(s) {
			copied[fileBase(s)] = ins
		}
	}
}

func isExtractCommand(u *Command) bool {
	switch u.Name {
	case "unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat":
		return true
	case "tar":
		for i, a := range u.Args {
			if a == "--extract" || a == "--get" ||
				(strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "x")) ||
				(i == 0 && !strings.HasPrefix(a, "-") && strings.Contains(a, "x") && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "") {
				return true
			}
		}
	}
	return false
}

// DF020 (DL3011): EXPOSE port out of range.
var checkPortRange = check{
	Rule: report.Rule{
		ID: "DF020", Aliases: []string{"DL3011", "DS-0008"}, Severity: report.Medium,
		Title: "EXPOSE port out of range",
		Description: "Ports are 16-bit numbers from 0 to 65535. A larger number is a typo (an extra " +
			"digit, a swapped range) and the image documents a port nothing can listen on.",
		Remediation: "Fix the port number: EXPOSE 8080, or a range such as EXPOSE 40000-40100/udp.",
		References:  []string{dockerRef + "#expose", hadolintWiki + "DL3011", "https://avd.aquasec.com/misconfig/ds008"},
		Category:    catDocker,
		Example:     "EXPOSE 8080/tcp",
	},
	run: runPortRange,
}

func runPortRange(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "EXPOSE" {
			return
		}
		for _, a := range ins.Args {
			spec, _, _ := strings.Cut(unquote(a), "/")
			if strings.Contains(spec, "$") {
				continue
			}
			lo, hi, _ := strings.Cut(spec, "-")
			for _, p := range []string{lo, hi} {
				if n, err := strconv.Atoi(p); err == nil && n > 65535 {
					c.Report(ins, fmt.Sprintf("EXPOSE %s: port %d is outside 0-65535", a, n))
					return
				}
			}
		}
	})
}

// DF021 (DL3012): several HEALTHCHECKs in one stage.
var checkMultipleHealthcheck = check{
	Rule: report.Rule{
		ID: "DF021", Aliases: []string{"DL3012", "DS-0023"}, Severity: report.Medium,
		Title: "More than one HEALTHCHECK in a stage",
		Description: "Only the last HEALTHCHECK of a stage takes effect. The earlier ones are dead " +
			"code that a reader may take for the real check, and an edit to them changes nothing.",
		Remediation: "Keep a single HEALTHCHECK per stage.",
		References:  []string{dockerRef + "#healthcheck", hadolintWiki + "DL3012", "https://avd.aquasec.com/misconfig/ds023"},
		Category:    catDocker,
		Example:     "HEALTHCHECK CMD [\"/app\", \"healthcheck\"]",
	},
	run: func(c *Context) {
		reportRepeats(c, "HEALTHCHECK", "only the last HEALTHCHECK of stage %s takes effect")
	},
}

// reportRepeats reports every top-level cmd of a stage after the first.
func reportRepeats(c *Context, cmd, format string) {
	for _, st := range c.File.Stages {
		seen := false
		for _, ins := range st.Instructions {
			if ins.Cmd != cmd {
				continue
			}
			if seen {
				c.Report(ins, fmt.Sprintf(format, stageDisplayName(st)))
			}
			seen = true
		}
	}
}

// DF022 (DL3020): ADD used for plain local files.
var checkAddLocal = check{
	Rule: report.Rule{
		ID: "DF022", Aliases: []string{"DL3020", "DS-0005", "CIS-DI-0009"}, Severity: report.Medium,
		Title: "ADD used where COPY would do",
		Description: "ADD does more than copy: it downloads URLs and silently unpacks local " +
			"archives. Used for ordinary files it hides that behaviour from the reader, and a file " +
			"later renamed to .tar.gz changes what the instruction does. COPY says exactly what happens.",
		Remediation: "Use COPY for local files and directories; keep ADD for local tarballs that " +
			"should be extracted and for remote sources with --checksum.",
		References: []string{dockerRef + "#add", hadolintWiki + "DL3020", "https://avd.aquasec.com/misconfig/ds005"},
		Category:   catDocker,
		Example:    "COPY requirements.txt /app/",
	},
	run: runAddLocal,
}

func runAddLocal(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "ADD" {
			return
		}
		srcs, _, ok := copyPaths(ins)
		if !ok {
			return
		}
		for _, s := range srcs {
			if !isTarballName(s) && !isHTTPURL(s) && !isGitSource(s) {
				c.Report(ins, fmt.Sprintf("ADD %s copies a local file; COPY does the same without ADD's extraction and download behaviour", s))
				return
			}
		}
	})
}

// DF023 (DL3021): several sources, destination not a directory.
var checkCopyMultiDest = check{
	Rule: report.Rule{
		ID: "DF023", Aliases: []string{"DL3021", "DS-0011"}, Severity: report.Medium,
		Title: "Several sources copied to a destination without a trailing /",
		Description: "When COPY or ADD has more than one source, the destination must be a directory " +
			"and must end with /. Without it the build fails, or, with wildcards that happen to " +
			"match one file, the file is written under the directory's name.",
		Remediation: "End the destination with a slash: COPY a.txt b.txt /app/.",
		References:  []string{dockerRef + "#copy", hadolintWiki + "DL3021", "https://avd.aquasec.com/misconfig/ds011"},
		Category:    catDocker,
		Example:     "COPY package.json package-lock.json /app/",
	},
	run: runCopyMultiDest,
}

func runCopyMultiDest(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "COPY" && ins.Cmd != "ADD" {
			return
		}
		srcs, dest, ok := copyPaths(ins)
		if !ok || len(srcs) < 2 || strings.HasSuffix(dest, "/") || strings.Contains(dest, "$") {
			return
		}
		aliases := []string{}
		if ins.Cmd == "COPY" {
			aliases = c.rule.Aliases
		}
		c.ReportWith(ins, aliases, fmt.Sprintf("%s has %d sources, so destination %s must end with /", ins.Cmd, len(srcs), dest), "")
	})
}

// DF024 (DL3022) and DF025 (DL3023): COPY --from naming a stage that is not an earlier one.
var checkCopyFromUnknown = check{
	Rule: report.Rule{
		ID: "DF024", Aliases: []string{"DL3022", "DS-0018"}, Severity: report.Low,
		Title: "COPY --from names no earlier stage",
		Description: "COPY --from=name takes files from the stage called name, and when no earlier " +
			"stage has that name BuildKit pulls an image called name instead, usually a typo " +
			"that copies from docker.io/library/<name>:latest. A stage index must also point to an " +
			"earlier stage.",
		Remediation: "Name the stage with FROM … AS name before copying from it, fix the spelling, or " +
			"write the image reference explicitly with a tag (COPY --from=nginx:1.27 …).",
		References: []string{dockerRef + "#copy---from", hadolintWiki + "DL3022"},
		Category:   catDocker,
		Example:    "FROM golang:1.23 AS build\n…\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app",
	},
	run: func(c *Context) { runCopyFrom(c, false) },
}

var checkCopyFromSelf = check{
	Rule: report.Rule{
		ID: "DF025", Aliases: []string{"DL3023", "DS-0006"}, Severity: report.Medium,
		Title: "COPY --from names its own stage",
		Description: "A stage cannot copy from itself, since its files do not exist yet. The build " +
			"fails, or, when an image of that name exists on the registry, copies from it instead.",
		Remediation: "Copy from the earlier stage that produced the files, or use a plain COPY or " +
			"RUN cp within the stage.",
		References: []string{dockerRef + "#copy---from", hadolintWiki + "DL3023", "https://avd.aquasec.com/misconfig/ds006"},
		Category:   catDocker,
		Example:    "FROM node:22 AS build\n…\nFROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html",
	},
	run: func(c *Context) { runCopyFrom(c, true) },
}

// runCopyFrom walks COPY --from in every stage and reports the problems that are about
// the stage itself (DF025) or about the others (DF024).
func runCopyFrom(c *Context, wantOwn bool) {
	for _, st := range c.File.Stages {
		for _, ins := range st.Instructions {
			if ins.Cmd != "COPY" {
				continue
			}
			from, ok := ins.Flag("from")
			if !ok {
				continue
			}
			if msg, own := copyFromProblem(c.File, st, unquote(from)); msg != "" && own == wantOwn {
				c.Report(ins, msg)
			}
		}
	}
}

// copyFromProblem explains what is wrong with COPY --from=name in stage st; own is true when
// name is st itself.
func copyFromProblem(f *File, st *Stage, name string) (msg string, own bool) {
	if name == "" || strings.Contains(name, "$") {
		return "", false
	}
	if n, err := strconv.Atoi(name); err == nil {
		if n >= st.Index {
			return fmt.Sprintf("COPY --from=%d names stage %d, which is not before this stage (%d)", n, n, st.Index), false
		}
		return "", false
	}
	lname := strings.ToLower(name)
	for _, other := range f.Stages {
		if other.Name != lname {
			continue
		}
		switch {
		case other == st:
			return fmt.Sprintf("COPY --from=%s names the stage it is in", name), true
		case other.Index > st.Index:
			return fmt.Sprintf("COPY --from=%s names a stage defined later, at line %d", name, other.From.Line), false
		}
		return "", false
	}
	if strings.ContainsAny(name, ":/@") {
		return "", false // an explicit image reference
	}
	return fmt.Sprintf("COPY --from=%s: no earlier stage is called %s, so the image %s:latest is pulled instead", name, name, name), false
}

// DF026 (DL3024): two stages with the same name.
var checkDuplicateStage = check{
	Rule: report.Rule{
		ID: "DF026", Aliases: []string{"DL3024", "DS-0012"}, Severity: report.Medium,
		Title: "Duplicate stage name",
		Description: "Stage names are how COPY --from, FROM and --target find a stage. With two " +
			"stages of the same name it is unclear which one is meant; builders reject the file or " +
			"silently pick one.",
		Remediation: "Give every stage a unique name.",
		References:  []string{dockerRef + "#from", hadolintWiki + "DL3024", "https://avd.aquasec.com/misconfig/ds012"},
		Category:    catDocker,
		Example:     "FROM node:22 AS deps\nFROM node:22 AS build",
	},
	run: runDuplicateStage,
}

func runDuplicateStage(c *Context) {
	first := map[string]*Stage{}
	for _, st := range c.File.Stages {
		if st.Name == "" {
			continue
		}
		if prev, dup := first[st.Name]; dup {
			c.Report(st.From, fmt.Sprintf("stage name %q is already used by the stage at line %d", st.Name, prev.From.Line))
			continue
		}
		first[st.Name] = st
	}
}

// DF027 (DL3025): CMD/ENTRYPOINT in shell form.
var checkShellFormCmd = check{
	Rule: report.Rule{
		ID: "DF027", Aliases: []string{"DL3025"}, Severity: report.Low,
		Title: "CMD or ENTRYPOINT in shell form",
		Description: "The shell form runs the command as a child of /bin/sh -c. The shell is PID 1, " +
			"does not forward SIGTERM, and the service is killed after the stop timeout instead of " +
			"shutting down cleanly; the shell form also needs a shell in the image.",
		Remediation: "Use the exec (JSON) form: CMD [\"gunicorn\", \"app:app\"]. When a shell is really " +
			"needed, end the script with exec so the service replaces it.",
		References: []string{dockerRef + "#cmd", dockerRef + "#entrypoint", hadolintWiki + "DL3025"},
		Category:   catDocker,
		Example:    "ENTRYPOINT [\"/usr/local/bin/app\"]\nCMD [\"--port\", \"8080\"]",
	},
	run: runShellFormCmd,
}

func runShellFormCmd(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if (ins.Cmd == "CMD" || ins.Cmd == "ENTRYPOINT") && !ins.JSON && len(ins.Args) > 0 {
			c.Report(ins, fmt.Sprintf("%s in shell form runs under /bin/sh -c, which does not pass signals to the process", ins.Cmd))
		}
	})
}

// DF028 (DL3026): base image from a registry outside Config.TrustedRegistries.
var checkTrustedRegistry = check{
	Rule: report.Rule{
		ID: "DF028", Aliases: []string{"DL3026"}, Severity: report.High,
		Title: "Base image from an untrusted registry",
		Description: "The trusted registries list names where base images may come from. A FROM " +
			"that pulls from anywhere else brings in unreviewed code and bypasses the mirroring, " +
			"scanning and signing the organisation applies to its registries; it is a supply-chain " +
			"policy the user asked charter to enforce, hence HIGH. Docker Hub names without a " +
			"registry count as docker.io; stages and scratch are exempt.",
		Remediation: "Pull the base from a trusted registry (mirror it there first), or add the " +
			"registry to trustedRegistries; *.example.com and * patterns are accepted.",
		References: []string{hadolintWiki + "DL3026", dockerRef + "#from"},
		Category:   catDocker,
		Example:    "FROM registry.example.com/mirror/debian:12-slim",
	},
	run: runTrustedRegistry,
}

func runTrustedRegistry(c *Context) {
	trusted := c.Config.TrustedRegistries
	if len(trusted) == 0 {
		return
	}
	for _, st := range c.File.Stages {
		ref, kind := stageBase(c.File, st)
		if kind != baseImage {
			continue
		}
		reg := strings.ToLower(ParseImageRef(ref).Registry())
		if !registryTrusted(reg, trusted) {
			c.Report(st.From, fmt.Sprintf("base image %s comes from %s, which is not a trusted registry (%s)", ref, reg, strings.Join(trusted, ", ")))
		}
	}
}

func registryTrusted(reg string, trusted []string) bool {
	for _, t := range trusted {
		t = strings.ToLower(strings.TrimSpace(t))
		if ok, _ := path.Match(t, reg); ok || t == reg {
			return true
		}
		if reg == "docker.io" {
			switch t {
			case "hub.docker.com", "index.docker.io", "registry-1.docker.io":
				return true
			}
		}
	}
	return false
}

// DF029 (DL3029): FROM --platform with a fixed platform.
var checkFromPlatform = check{
	Rule: report.Rule{
		ID: "DF029", Aliases: []string{"DL3029"}, Severity: report.Low,
		Title: "FROM with a fixed --platform",
		Description: "A literal --platform pins the stage to one architecture: on other machines the " +
			"build runs under emulation or produces an image for the wrong platform, and multi-" +
			"platform builds break. $BUILDPLATFORM and $TARGETPLATFORM are the intended uses.",
		Remediation: "Drop --platform and pass docker build --platform, or use --platform=$BUILDPLATFORM " +
			"for stages that cross-compile.",
		References: []string{dockerRef + "#from", hadolintWiki + "DL3029",
			"https://docs.docker.com/build/building/multi-platform/"},
		Category: catDocker,
		Example:  "FROM --platform=$BUILDPLATFORM golang:1.23 AS build",
	},
	run: runFromPlatform,
}

func runFromPlatform(c *Context) {
	for _, st := range c.File.Stages {
		p, ok := st.From.Flag("platform")
		p = unquote(p)
		if !ok || p == "" || strings.Contains(p, "BUILDPLATFORM") || strings.Contains(p, "TARGETPLATFORM") {
			continue
		}
		if v, resolved := expandGlobalArgs(c.File, p); !resolved || v == "" {
			continue
		}
		c.Report(st.From, fmt.Sprintf("FROM --platform=%s fixes the stage's platform", p))
	}
}

// DF030 (DL3043): ONBUILD triggering ONBUILD, FROM or MAINTAINER.
var checkOnbuildTrigger = check{
	Rule: report.Rule{
		ID: "DF030", Aliases: []string{"DL3043"}, Severity: report.Medium,
		Title: "ONBUILD triggers ONBUILD, FROM or MAINTAINER",
		Description: "ONBUILD registers an instruction to run in child builds. ONBUILD, FROM and " +
			"MAINTAINER are not allowed as triggers, so every image built FROM this one fails.",
		Remediation: "Remove the trigger, or move the instruction into the Dockerfiles that need it.",
		References:  []string{dockerRef + "#onbuild", hadolintWiki + "DL3043"},
		Category:    catDocker,
		Example:     "ONBUILD COPY . /app/src",
	},
	run: runOnbuildTrigger,
}

func runOnbuildTrigger(c *Context) {
	for _, ins := range c.File.Instructions {
		if ins.Inner == nil {
			continue
		}
		switch ins.Inner.Cmd {
		case "ONBUILD", "FROM", "MAINTAINER":
			c.Report(ins, fmt.Sprintf("ONBUILD %s is not allowed as a trigger", ins.Inner.Cmd))
		}
	}
}

// DF031 (DL3044): ENV referring to a variable the same ENV defines.
var checkEnvSelfRef = check{
	Rule: report.Rule{
		ID: "DF031", Aliases: []string{"DL3044"}, Severity: report.Medium,
		Title: "ENV refers to a variable it defines itself",
		Description: "All references in one ENV are expanded before any of its assignments take " +
			"effect. ENV A=1 B=$A sets B to the old value of A (often empty), not 1, which is " +
			"rarely what the author meant.",
		Remediation: "Split the instruction: ENV A=1 then ENV B=$A.",
		References:  []string{dockerRef + "#env", hadolintWiki + "DL3044"},
		Category:    catDocker,
		Example:     "ENV APP_HOME=/app\nENV PATH=$APP_HOME/bin:$PATH",
	},
	run: runEnvSelfRef,
}

func runEnvSelfRef(c *Context) {
	defined := map[*Stage]map[string]bool{}
	for _, st := range c.File.Stages {
		defs := map[string]bool{}
		for k := range defined[st.BaseStage] {
			defs[k] = true
		}
		for _, ins := range st.Instructions {
			switch ins.Cmd {
			case "ARG":
				for _, kv := range ArgPairs(ins) {
					defs[kv.Key] = true
				}
			case "ENV":
				pairs := envKeyValues(ins)
				if name := sameEnvReference(pairs, defs); name != "" {
					c.Report(ins, fmt.Sprintf("ENV uses $%s, which this same ENV defines: it expands to the value from before the instruction", name))
				}
				for _, kv := range pairs {
					defs[kv.Key] = true
				}
			}
		}
		defined[st] = defs
	}
}

func sameEnvReference(pairs []KeyValue, defined map[string]bool) string {
	for i, kv := range pairs {
		if defined[kv.Key] {
			continue
		}
		for j, other := range pairs {
			if i != j && referencesVar(other.Value, kv.Key) {
				return kv.Key
			}
		}
	}
	return ""
}

// referencesVar reports whether s contains $name or ${name…} (not $nameSuffix).
func referencesVar(s, name string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		rest := s[i+1:]
		braced := rest[0] == '{'
		if braced {
			rest = rest[1:]
		}
		n := 0
		for n < len(rest) && (isASCIILetter(rest[n]) || rest[n] == '_' || (n > 0 && rest[n] >= '0' && rest[n] <= '9')) {
			n++
		}
		if rest[:n] == name {
			return true
		}
	}
	return false
}

// DF032 (DL3045): COPY to a relative destination before any WORKDIR.
var checkCopyNoWorkdir = check{
	Rule: report.Rule{
		ID: "DF032", Aliases: []string{"DL3045"}, Severity: report.Low,
		Title: "COPY to a relative path without WORKDIR",
		Description: "A relative destination is resolved against the working directory, which, " +
			"with no WORKDIR in the stage, is whatever the base image set, often /. Files land in " +
			"a different place when the base image changes, and the Dockerfile does not say where.",
		Remediation: "Set WORKDIR /app before the COPY, or copy to an absolute path.",
		References:  []string{dockerRef + "#workdir", hadolintWiki + "DL3045"},
		Category:    catDocker,
		Example:     "WORKDIR /app\nCOPY . .",
	},
	run: runCopyNoWorkdir,
}

func runCopyNoWorkdir(c *Context) {
	for _, st := range c.File.Stages {
		inherited := false
		for s := st.BaseStage; s != nil && !inherited; s = s.BaseStage {
			inherited = hasWorkdir(s)
		}
		set, onbuildSet := inherited, false
		for _, ins := range st.Instructions {
			switch {
			case ins.Cmd == "WORKDIR":
				set = true
			case ins.Inner != nil && ins.Inner.Cmd == "WORKDIR":
				onbuildSet = true
			case ins.Cmd == "COPY" || ins.Cmd == "ADD":
				reportRelativeCopy(c, ins, set)
			case ins.Inner != nil && (ins.Inner.Cmd == "COPY" || ins.Inner.Cmd == "ADD"):
				// A trigger runs in the child build, after this whole stage.
				reportRelativeCopy(c, ins.Inner, inherited || hasWorkdir(st) || onbuildSet)
			}
		}
	}
}

func hasWorkdir(st *Stage) bool {
	for _, ins := range st.Instructions {
		if ins.Cmd == "WORKDIR" {
			return true
		}
	}
	return false
}

func reportRelativeCopy(c *Context, ins *Instruction, workdirSet bool) {
	_, dest, ok := copyPaths(ins)
	if workdirSet || !ok || isAbsolutePath(dest) {
		return
	}
	aliases := []string{}
	if ins.Cmd == "COPY" {
		aliases = c.rule.Aliases
	}
	c.ReportWith(ins, aliases, fmt.Sprintf("%s to relative path %s with no WORKDIR set", ins.Cmd, dest), "")
}

// DF033 (DL3061): an instruction other than ARG before the first FROM.
var checkBeforeFrom = check{
	Rule: report.Rule{
		ID: "DF033", Aliases: []string{"DL3061"}, Severity: report.Medium,
		Title: "Instruction before FROM",
		Description: "Only ARG (and comments or parser directives) may come before the first FROM. " +
			"Anything else has no stage to apply to and the build fails.",
		Remediation: "Move the instruction after FROM.",
		References:  []string{dockerRef + "#from", hadolintWiki + "DL3061"},
		Category:    catDocker,
		Example:     "ARG VERSION=12\nFROM debian:${VERSION}\nLABEL org.opencontainers.image.source=…",
	},
	run: runBeforeFrom,
}

func runBeforeFrom(c *Context) {
	for _, ins := range c.File.Global {
		if ins.Cmd != "ARG" {
			c.Report(ins, fmt.Sprintf("%s comes before the first FROM", ins.Cmd))
		}
	}
}

// DF034 (DL4000): MAINTAINER.
var checkMaintainer = check{
	Rule: report.Rule{
		ID: "DF034", Aliases: []string{"DL4000", "DS-0022"}, Severity: report.Medium,
		Title: "MAINTAINER is deprecated",
		Description: "MAINTAINER has been deprecated since Docker 1.13 and is ignored by tools that " +
			"read image metadata. The OCI authors label carries the same information where " +
			"registries and scanners look for it.",
		Remediation: "Replace it with LABEL org.opencontainers.image.authors=\"name <email>\".",
		References: []string{dockerRef + "#maintainer-deprecated", hadolintWiki + "DL4000",
			"https://avd.aquasec.com/misconfig/ds022"},
		Category: catDocker,
		Example:  "LABEL org.opencontainers.image.authors=\"Platform team <platform@example.com>\"",
	},
	run: runMaintainer,
}

func runMaintainer(c *Context) {
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd == "MAINTAINER" {
			c.Report(ins, "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors")
		}
	})
}

// DF035 (DL4003) and DF036 (DL4004): several CMDs or ENTRYPOINTs in one stage.
var checkMultipleCmd = check{
	Rule: report.Rule{
		ID: "DF035", Aliases: []string{"DL4003", "DS-0016"}, Severity: report.Low,
		Title: "More than one CMD in a stage",
		Description: "Only the last CMD of a stage takes effect. Earlier ones mislead readers about " +
			"what the container runs.",
		Remediation: "Keep one CMD per stage; to run several processes use a small init or a process " +
			"supervisor, or separate containers.",
		References: []string{dockerRef + "#cmd", hadolintWiki + "DL4003", "https://avd.aquasec.com/misconfig/ds016"},
		Category:   catDocker,
		Example:    "CMD [\"nginx\", \"-g\", \"daemon off;\"]",
	},
	run: func(c *Context) { reportRepeats(c, "CMD", "only the last CMD of stage %s takes effect") },
}

var checkMultipleEntrypoint = check{
	Rule: report.Rule{
		ID: "DF036", Aliases: []string{"DL4004", "DS-0007"}, Severity: report.Medium,
		Title: "More than one ENTRYPOINT in a stage",
		Description: "Only the last ENTRYPOINT of a stage takes effect, and a later ENTRYPOINT also " +
			"resets CMD inherited from the base image. Several of them mislead readers about what " +
			"the container runs.",
		Remediation: "Keep one ENTRYPOINT per stage.",
		References:  []string{dockerRef + "#entrypoint", hadolintWiki + "DL4004", "https://avd.aquasec.com/misconfig/ds007"},
		Category:    catDocker,
		Example:     "ENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]",
	},
	run: func(c *Context) {
		reportRepeats(c, "ENTRYPOINT", "only the last ENTRYPOINT of stage %s takes effect")
	},
}
