package lint

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charterhq/charter/internal/manifest"
)

// skipDirs are folders that never hold a project's own Dockerfiles but can hold thousands
// of vendored ones.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".hg": true, ".svn": true}

// IsDockerfileName reports whether a file name is one builders and editors treat as a
// Dockerfile: Dockerfile, Containerfile, Dockerfile.<x>, <x>.Dockerfile, <x>.containerfile.
// Ignore files (Dockerfile.dockerignore) are not.
func IsDockerfileName(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".dockerignore"), strings.HasSuffix(lower, ".containerignore"):
		return false
	case lower == "dockerfile", lower == "containerfile":
		return true
	case strings.HasPrefix(lower, "dockerfile."), strings.HasPrefix(lower, "containerfile."):
		return true
	case strings.HasSuffix(lower, ".dockerfile"), strings.HasSuffix(lower, ".containerfile"):
		return len(lower) > len(".dockerfile")
	}
	return false
}

// Discover returns every Dockerfile under root in lexical order. Symbolic links are not
// followed (a linked Dockerfile is linted where its target lives, if inside the tree);
// unreadable folders become warnings.
func Discover(ctx context.Context, root string) ([]string, []string, error) {
	found, warnings, err := discover(ctx, root, false)
	return found.dockerfiles, warnings, err
}

// found is what a walk turned up: Dockerfiles, and deployment files (Kubernetes
// manifests, compose files, CI files) with their kinds.
type found struct {
	dockerfiles []string
	manifests   []manifestFile
}

type manifestFile struct {
	path string
	kind manifest.Kind
}

// manifestSkipDirs hold other projects' manifests, and test fixtures (often broken on
// purpose), not this project's deployment files.
var manifestSkipDirs = map[string]bool{"vendor": true, "third_party": true, "testdata": true}

// discover walks root once for Dockerfiles and, with manifests, deployment files. A
// YAML or JSON file is a deployment file when manifest.Detect says so from its path and
// content, so random YAML (a linter config, an OpenAPI spec) is left alone.
func discover(ctx context.Context, root string, manifests bool) (found, []string, error) {
	var out found
	var warnings, patches []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if p == root {
				return &Error{Path: root, Err: cleanOSError(err)}
			}
			warnings = append(warnings, fmt.Sprintf("%s: %v (skipped)", p, cleanOSError(err)))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if IsDockerfileName(d.Name()) {
			out.dockerfiles = append(out.dockerfiles, p)
		} else if manifests && manifestCandidate(d.Name()) && !underSkipped(root, p) {
			if isKustomization(d.Name()) {
				patches = append(patches, kustomizePatches(p)...)
			}
			kind, warning := detectFile(p)
			if warning != "" {
				warnings = append(warnings, warning)
			}
			if kind != manifest.Unknown {
				out.manifests = append(out.manifests, manifestFile{path: p, kind: kind})
			}
		}
		return nil
	})
	if len(patches) > 0 {
		out.manifests = slices.DeleteFunc(out.manifests, func(m manifestFile) bool {
			if slices.Contains(patches, filepath.Clean(m.path)) {
				warnings = append(warnings, m.path+": a kustomize patch, skipped: lint the built output, e.g. kustomize build DIR | charter lint -")
				return true
			}
			return false
		})
	}
	return out, warnings, err
}

func isKustomization(name string) bool {
	switch name {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// kustomizePatches returns the patch files a kustomization names, as paths beside it.
func kustomizePatches(p string) []string {
	data, err := readManifest(p)
	if err != nil {
		return nil
	}
	var out []string
	for _, rel := range manifest.KustomizePatches(data) {
		out = append(out, filepath.Join(filepath.Dir(p), filepath.FromSlash(rel)))
	}
	return out
}

// notManifests are well-known YAML and JSON files that are never deployment files and
// can be large: not worth reading to find out.
var notManifests = map[string]bool{
	"package.json": true, "package-lock.json": true, "npm-shrinkwrap.json": true,
	"pnpm-lock.yaml": true, "composer.json": true, "tsconfig.json": true, ".yarnrc.yml": true,
}

func manifestCandidate(name string) bool {
	if notManifests[strings.ToLower(filepath.Base(name))] {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func underSkipped(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if manifestSkipDirs[part] {
			return true
		}
	}
	return false
}

// detectFile reads a candidate and says what it is; a file it cannot read or that is
// too large is a warning, not a failure, since it may be no deployment file at all.
func detectFile(p string) (manifest.Kind, string) {
	data, err := readManifest(p)
	if err != nil {
		return manifest.Unknown, fmt.Sprintf("%s: %v (skipped)", p, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return manifest.Detect(filepath.ToSlash(abs), data), ""
}
