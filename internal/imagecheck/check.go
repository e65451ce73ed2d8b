// Package imagecheck holds charter's checks over a built image (IMG001–IMG008, IMG010):
// its config, its history, its final filesystem, the files later layers deleted, and the
// anomalies of its layers.
//
// The checks run in two parts around one image.Walk. Analyzers returns what the walk
// must serve (secret files, /etc/passwd), so every layer is still read once; Check then
// turns the config, the Index and the analyzers' records into findings. Each finding
// names the layer that holds what it reports (Location.LayerIndex, Location.Layer as the
// diffID) and the history entry that made that layer (Location.Instruction).
//
// Nothing secret leaves the package: evidence is redacted, analyzer records (which the
// layer cache stores on disk) hold redacted evidence only, and every instruction copied
// from the history is passed through a redactor that knows the values the config checks
// found, so a build argument found by its name alone is masked too.
package imagecheck

import (
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// Scanners selects groups of checks, as `charter scan --scanners` does.
type Scanners struct {
	// Config: the image config and history (IMG001, IMG007's exposed port).
	Config bool
	// Secret: secrets in the config and history (IMG002), in files (IMG003) and in files
	// a later layer deleted (IMG004).
	Secret bool
	// File: permissions and contents of the filesystem (IMG005, IMG006, IMG007's SSH
	// server, IMG008) and layer anomalies (IMG010).
	File bool
}

// All selects every group.
func All() Scanners { return Scanners{Config: true, Secret: true, File: true} }

// Image is what the checks need of an opened image (an *image.Image satisfies it).
type Image interface {
	Ref() string
	ConfigFile() *v1.ConfigFile
}

// Analyzers returns the analyzers the selected checks need, to be passed to Image.Walk.
func Analyzers(s Scanners) []image.Analyzer {
	var as []image.Analyzer
	if s.Config {
		as = append(as, passwdAnalyzer())
	}
	if s.Secret {
		as = append(as, secretFileAnalyzer{})
	}
	return as
}

// Check runs the selected checks on an image and the Index its Walk returned (a Walk
// with Analyzers(s) among its analyzers). Findings come back in a stable order, every
// instruction redacted.
func Check(im Image, idx *image.Index, s Scanners) []report.Finding {
	c := &checker{ref: im.Ref(), cfg: im.ConfigFile(), idx: idx}
	c.historyLayers()
	if s.Secret {
		c.configSecrets()
	}
	if s.Config {
		c.rootUser()
		c.exposedSSH()
	}
	if s.Secret {
		c.secretFiles()
	}
	if s.File {
		c.setuid()
		c.worldWritable()
		c.sshServer()
		c.shellsAndPackageManagers()
		c.anomalies()
	}
	c.redactInstructions()
	return c.findings
}

// checker is the state of one Check.
type checker struct {
	ref      string
	cfg      *v1.ConfigFile
	idx      *image.Index
	findings []report.Finding
	// layerOf maps a history entry (by index in cfg.History) to the layer it made.
	layerOf map[int]int
	// values are the secret values the config checks found, for redacting instructions.
	values []string
	// final caches idx.Files(), which sorts the whole final filesystem on every call.
	final []*image.File
}

// files returns the final filesystem, sorted by path.
func (c *checker) files() []*image.File {
	if c.final == nil {
		c.final = c.idx.Files()
	}
	return c.final
}

// historyLayers maps history entries to the layers they made, as the image package
// does: entries not marked empty_layer made the layers, in order, when their number
// matches; otherwise no entry is tied to a layer rather than a wrong one.
func (c *checker) historyLayers() {
	c.layerOf = map[int]int{}
	if c.cfg == nil || c.idx == nil {
		return
	}
	var made []int
	for i, h := range c.cfg.History {
		if !h.EmptyLayer {
			made = append(made, i)
		}
	}
	if len(made) != len(c.idx.Layers) {
		return
	}
	for l, i := range made {
		c.layerOf[i] = l
	}
}

// layerLoc is the location of something a layer holds.
func (c *checker) layerLoc(layer int, p string) report.Location {
	loc := report.Location{Image: c.ref, Path: p}
	if c.idx == nil || layer < 0 || layer >= len(c.idx.Layers) {
		return loc
	}
	l := c.idx.Layers[layer]
	li := layer
	loc.LayerIndex = &li
	if l.DiffID.Hex != "" {
		loc.Layer = l.DiffID.String()
	}
	loc.Instruction = l.CreatedBy()
	return loc
}

// historyLoc is the location of a history entry: its instruction and, when the entry
// made a layer, that layer.
func (c *checker) historyLoc(i int) report.Location {
	if l, ok := c.layerOf[i]; ok {
		loc := c.layerLoc(l, "")
		loc.Instruction = c.cfg.History[i].CreatedBy
		return loc
	}
	return report.Location{Image: c.ref, Instruction: c.cfg.History[i].CreatedBy}
}

// lastHistory returns the index of the last history entry whose instruction satisfies
// match, or -1.
func (c *checker) lastHistory(match func(instruction string) bool) int {
	if c.cfg == nil {
		return -1
	}
	for i := len(c.cfg.History) - 1; i >= 0; i-- {
		if match(instructionOf(c.cfg.History[i].CreatedBy)) {
			return i
		}
	}
	return -1
}

// instructionOf strips the wrappers builders put around a Dockerfile instruction in
// created_by: the classic builder's "/bin/sh -c #(nop) " and BuildKit's " # buildkit".
func instructionOf(createdBy string) string {
	s := strings.TrimSpace(createdBy)
	if i := strings.Index(s, "#(nop)"); i >= 0 {
		s = strings.TrimSpace(s[i+len("#(nop)"):])
	}
	s = strings.TrimSuffix(s, "# buildkit")
	return strings.TrimSpace(s)
}

func (c *checker) add(r report.Rule, loc report.Location, msg, evidence string) {
	f := r.Finding(loc, msg)
	f.Evidence = evidence
	c.findings = append(c.findings, f)
}

// redactInstructions masks, in every finding's instruction and message, the secret
// values the config checks found and whatever the secrets scanner recognises.
func (c *checker) redactInstructions() {
	red := secrets.NewRedactor(c.values, secrets.WithScan())
	for i := range c.findings {
		f := &c.findings[i]
		f.Location.Instruction = red.String(maskSecretAssignments(f.Location.Instruction))
		f.Message = red.String(maskSecretAssignments(f.Message))
	}
}

// maskSecretAssignments replaces the value of every NAME=value word whose name says
// secret, however short the value: the redactor ignores values under 4 bytes, which
// would otherwise leave "PASSWORD=abc" readable in an instruction.
func maskSecretAssignments(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	words := strings.Split(s, " ")
	changed := false
	for i, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || v == "" || strings.HasPrefix(v, secrets.MarkerPrefix) || v == secrets.Marker || strings.Contains(v, "$") {
			continue
		}
		if name := strings.TrimLeft(k, "|-"); secrets.IsSecretName(name) {
			words[i] = k + "=" + secrets.Marker
			changed = true
		}
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}
