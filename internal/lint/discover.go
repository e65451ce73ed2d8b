package lint

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
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
	var paths, warnings []string
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
		if d.Type().IsRegular() && IsDockerfileName(d.Name()) {
			paths = append(paths, p)
		}
		return nil
	})
	return paths, warnings, err
}
