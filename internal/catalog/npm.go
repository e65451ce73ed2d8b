package catalog

import (
	"encoding/json"
	"path"
	"sort"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// npmCataloger reads installed npm packages (every package.json with a name and a
// version: node_modules trees, global installs, Debian's /usr/share/nodejs) and the
// packages a package-lock.json pins. Build drops a lock entry when the same package is
// installed, so each package is reported once, from the files that are really there.
type npmCataloger struct{}

func (npmCataloger) Name() string { return "npm" }
func (npmCataloger) Version() int { return 1 }

const (
	npmManifestMax = 1 << 20
	npmLockMax     = 32 << 20
)

func (npmCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() {
		return false, 0
	}
	switch path.Base(f.Path) {
	case "package.json":
		return true, npmManifestMax
	case "package-lock.json":
		if !strings.Contains(f.Path, "/node_modules/") {
			return true, npmLockMax
		}
	}
	return false, 0
}

func (npmCataloger) Parse(f *image.File, content []byte) []Found {
	if path.Base(f.Path) == "package-lock.json" {
		return parsePackageLock(content)
	}
	p := parsePackageJSON(content)
	if p == nil {
		return nil // a project's or a test fixture's manifest: not a package
	}
	return []Found{{Package: p}}
}

type packageJSON struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	License json.RawMessage `json:"license"`
	// Licenses is the deprecated array form: [{"type": "MIT"}].
	Licenses json.RawMessage `json:"licenses"`
}

// parsePackageJSON returns the package a package.json names, or nil when it names none.
func parsePackageJSON(b []byte) *Package {
	var m packageJSON
	if err := json.Unmarshal(b, &m); err != nil || m.Name == "" || m.Version == "" {
		return nil
	}
	p := &Package{Ecosystem: NPM, Version: m.Version, Licenses: npmLicenses(m.License, m.Licenses)}
	p.Namespace, p.Name = splitNPMName(m.Name)
	if p.Name == "" { // "@scope/": a scope without a package
		return nil
	}
	return p
}

func splitNPMName(n string) (scope, name string) {
	if strings.HasPrefix(n, "@") {
		if s, rest, ok := strings.Cut(n, "/"); ok {
			return s, rest
		}
	}
	return "", n
}

// npmLicenses accepts "MIT", {"type": "MIT"} and [{"type": "MIT"}].
func npmLicenses(raw ...json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		if len(r) == 0 {
			continue
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			if s != "" {
				out = append(out, s)
			}
			continue
		}
		var o struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(r, &o) == nil && o.Type != "" {
			out = append(out, o.Type)
			continue
		}
		var arr []struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(r, &arr) == nil {
			for _, a := range arr {
				if a.Type != "" {
					out = append(out, a.Type)
				}
			}
		}
	}
	return out
}

type packageLock struct {
	LockfileVersion int `json:"lockfileVersion"`
	Packages        map[string]struct {
		Name    string          `json:"name"`
		Version string          `json:"version"`
		License json.RawMessage `json:"license"`
		Link    bool            `json:"link"`
	} `json:"packages"`
	Dependencies map[string]lockDep `json:"dependencies"`
}

type lockDep struct {
	Version      string             `json:"version"`
	Dependencies map[string]lockDep `json:"dependencies"`
}

// parsePackageLock reads lockfile v2/v3 ("packages", keyed by node_modules path) and
// v1 ("dependencies", nested).
func parsePackageLock(b []byte) []Found {
	var lock packageLock
	if err := json.Unmarshal(b, &lock); err != nil {
		return []Found{{Warning: "package-lock.json: " + clipString(err.Error())}}
	}
	var out []Found
	add := func(name, version string, lic []string) {
		if name == "" || version == "" || strings.HasPrefix(version, "file:") || strings.HasPrefix(version, "link:") {
			return
		}
		p := &Package{Ecosystem: NPM, Version: version, Licenses: lic, Meta: map[string]string{"declared": "package-lock.json"}}
		p.Namespace, p.Name = splitNPMName(name)
		if p.Name == "" {
			return
		}
		out = append(out, Found{Package: p})
	}
	if len(lock.Packages) > 0 {
		keys := make([]string, 0, len(lock.Packages))
		for k := range lock.Packages {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e := lock.Packages[k]
			if k == "" || e.Link {
				continue // the project itself, or a workspace link
			}
			name := e.Name
			if i := strings.LastIndex(k, "node_modules/"); i >= 0 && name == "" {
				name = k[i+len("node_modules/"):]
			}
			add(name, e.Version, npmLicenses(e.License))
		}
		return dedupeFound(out)
	}
	var walk func(deps map[string]lockDep, depth int)
	walk = func(deps map[string]lockDep, depth int) {
		if depth > 64 {
			return
		}
		names := make([]string, 0, len(deps))
		for n := range deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			add(n, deps[n].Version, nil)
			walk(deps[n].Dependencies, depth+1)
		}
	}
	walk(lock.Dependencies, 0)
	return dedupeFound(out)
}

// dedupeFound keeps the first of packages with the same name and version, which a lock
// file lists once per place it is installed.
func dedupeFound(fs []Found) []Found {
	seen := map[string]bool{}
	out := fs[:0]
	for _, f := range fs {
		if f.Package != nil {
			k := f.Package.Namespace + "/" + f.Package.Name + "@" + f.Package.Version
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, f)
	}
	return out
}
