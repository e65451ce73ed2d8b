package profile

import (
	"fmt"
	"strings"
)

// Formats are the outputs Render writes.
var Formats = []string{"docker", "compose", "kubernetes", "oci", "seccomp"}

// Render writes the profile in one of Formats. seccompPath is where the docker and
// compose outputs expect a narrowed seccomp profile ("" for DefaultSeccompPath).
func (p *Profile) Render(format, seccompPath string) ([]byte, error) {
	switch format {
	case "docker":
		return []byte(p.Docker(seccompPath)), nil
	case "compose":
		return p.Compose(seccompPath)
	case "kubernetes":
		return p.Kubernetes()
	case "oci":
		return p.OCIJSON()
	case "seccomp":
		return p.Seccomp.JSON()
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}
