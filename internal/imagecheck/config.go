package imagecheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
)

const passwdPath = "/etc/passwd"

// passwdAnalyzer reads /etc/passwd of every layer that has one; Check uses the copy the
// final filesystem shows to resolve a user name to its UID.
func passwdAnalyzer() image.Analyzer {
	return &image.PathAnalyzer{
		Name:     "imagecheck-passwd/1",
		Paths:    []string{passwdPath},
		MaxBytes: 1 << 20,
		Func: func(f *image.File, content []byte) ([]image.Record, error) {
			if !f.Regular() || f.Hardlink {
				return nil, nil
			}
			data, err := json.Marshal(parsePasswd(content))
			if err != nil {
				return nil, err
			}
			return []image.Record{{Kind: "passwd", Data: data}}, nil
		},
	}
}

// parsePasswd maps user names to UIDs; malformed lines are skipped.
func parsePasswd(b []byte) map[string]int {
	users := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 || fields[0] == "" || strings.HasPrefix(fields[0], "#") {
			continue
		}
		uid, err := strconv.Atoi(fields[2])
		if err != nil {
			continue
		}
		if _, dup := users[fields[0]]; !dup {
			users[fields[0]] = uid
		}
	}
	return users
}

// finalPasswd returns the users of the /etc/passwd the final filesystem shows, or nil.
func (c *checker) finalPasswd() map[string]int {
	if c.idx == nil {
		return nil
	}
	for _, r := range c.idx.Records() {
		if r.Kind != "passwd" || r.Path != passwdPath || !c.idx.Visible(r.Layer, r.Path) {
			continue
		}
		var users map[string]int
		if json.Unmarshal(r.Data, &users) == nil {
			return users
		}
	}
	return nil
}

// rootUser is IMG001: the config's user is root, by default, by name or by UID.
func (c *checker) rootUser() {
	if c.cfg == nil {
		return
	}
	user := strings.TrimSpace(c.cfg.Config.User)
	name, _, _ := strings.Cut(user, ":")
	var msg string
	switch {
	case user == "":
		msg = "the image config sets no user, so containers run as root"
	case name == "root" || name == "0":
		msg = fmt.Sprintf("the image config's user is %q: containers run as root", user)
	default:
		if _, err := strconv.Atoi(name); err == nil {
			return
		}
		if uid, ok := c.finalPasswd()[name]; ok && uid == 0 {
			msg = fmt.Sprintf("the image config's user %q has UID 0 in the image's /etc/passwd: containers run as root", user)
		}
	}
	if msg == "" {
		return
	}
	loc := c.configLoc(func(ins string) bool { return hasKeyword(ins, "USER") })
	c.add(ruleIMG001, loc, msg, "")
}

// configLoc locates a config setting at the last history entry that matches, or at the
// image alone.
func (c *checker) configLoc(match func(string) bool) report.Location {
	if i := c.lastHistory(match); i >= 0 {
		return c.historyLoc(i)
	}
	return report.Location{Image: c.ref}
}

// hasKeyword reports whether an instruction starts with a Dockerfile keyword.
func hasKeyword(ins, kw string) bool {
	return len(ins) > len(kw) && strings.EqualFold(ins[:len(kw)], kw) && (ins[len(kw)] == ' ' || ins[len(kw)] == '\t')
}

// exposedSSH is IMG007's config half: port 22 in ExposedPorts.
func (c *checker) exposedSSH() {
	if c.cfg == nil {
		return
	}
	var ports []string
	for p := range c.cfg.Config.ExposedPorts {
		if num, _, _ := strings.Cut(p, "/"); num == "22" {
			ports = append(ports, p)
		}
	}
	if len(ports) == 0 {
		return
	}
	slices.Sort(ports)
	loc := c.configLoc(func(ins string) bool {
		if !hasKeyword(ins, "EXPOSE") {
			return false
		}
		// BuildKit writes the ports as a Go map: "EXPOSE map[22/tcp:{} 80/tcp:{}]".
		for _, w := range strings.Fields(ins)[1:] {
			w = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(w, "map["), "]"), ":{}")
			if num, _, _ := strings.Cut(w, "/"); num == "22" {
				return true
			}
		}
		return false
	})
	c.add(ruleIMG007, loc, fmt.Sprintf("the image exposes port %s (SSH)", strings.Join(ports, ", ")), "")
}
