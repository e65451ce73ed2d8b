package profile

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// maxIDFile bounds how much of /etc/passwd or /etc/group is read.
const maxIDFile = 1 << 20

// Account is one line of /etc/passwd or /etc/group: a name and its numeric ID; GID is
// the primary group of a passwd entry.
type Account struct {
	Name    string
	ID, GID int
}

// ParseIDFile reads /etc/passwd (name:x:uid:gid:…) or /etc/group (name:x:gid:…) as a
// list of accounts; malformed lines are skipped, as libc skips them.
func ParseIDFile(data []byte, passwd bool) []Account {
	if len(data) > maxIDFile {
		data = data[:maxIDFile]
	}
	var out []Account
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxIDFile)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := parseID(f[2])
		if err != nil {
			continue
		}
		a := Account{Name: f[0], ID: id, GID: -1}
		if passwd {
			if len(f) < 4 {
				continue
			}
			if a.GID, err = parseID(f[3]); err != nil {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// parseID reads a uid or gid: a decimal number from 0 to 2^32-2.
func parseID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("%q is not a user or group ID", s)
	}
	return int(n), nil
}

func lookup(accts []Account, name string) (Account, bool) {
	for _, a := range accts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

func lookupID(accts []Account, id int) (Account, bool) {
	for _, a := range accts {
		if a.ID == id {
			return a, true
		}
	}
	return Account{}, false
}

// ResolveUser turns "user[:group]" (names or numbers, as USER and runtime.user write
// them) into numeric IDs with the image's passwd and group files. A numeric user with no
// passwd entry and no group gets its uid as gid, never the root group.
func ResolveUser(spec string, passwd, group []byte) (User, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	users := ParseIDFile(passwd, true)
	u := User{GID: -1}
	if id, err := parseID(userPart); err == nil {
		u.UID = id
		if a, ok := lookupID(users, id); ok {
			u.Name, u.GID = a.Name, a.GID
		}
	} else {
		a, ok := lookup(users, userPart)
		if !ok {
			return User{}, fmt.Errorf("user %q is not in the image's /etc/passwd; use a numeric uid:gid", userPart)
		}
		u.Name, u.UID, u.GID = a.Name, a.ID, a.GID
	}
	if hasGroup {
		if id, err := parseID(groupPart); err == nil {
			u.GID = id
		} else {
			g, ok := lookup(ParseIDFile(group, false), groupPart)
			if !ok {
				return User{}, fmt.Errorf("group %q is not in the image's /etc/group; use a numeric uid:gid", groupPart)
			}
			u.GID = g.ID
		}
	}
	if u.GID < 0 {
		u.GID = u.UID
	}
	return u, nil
}

func (p *Profile) setUser(charterUser, imageUser string, src Source) error {
	if charterUser != "" {
		userPart, groupPart, _ := strings.Cut(charterUser, ":")
		if userPart == "root" {
			return fmt.Errorf("runtime.user %q is root; a charter profile runs as a non-root user", charterUser)
		}
		u, err := ResolveUser(charterUser, src.Passwd, src.Group)
		if err != nil && src.Passwd == nil {
			// The image's files are unknown (inspecting a manifest): keep the name, which
			// only a comparison by name can use.
			u = User{UID: -1, GID: -1, Name: userPart, Source: "charter"}
			if g, gerr := parseID(groupPart); gerr == nil {
				u.GID = g
			}
			p.User = u
			return nil
		}
		if err != nil {
			return fmt.Errorf("runtime.user: %w", err)
		}
		if u.UID == 0 {
			return fmt.Errorf("runtime.user %q is root; a charter profile runs as a non-root user", charterUser)
		}
		u.Source = "charter"
		p.User = u
		return nil
	}
	if imageUser != "" {
		u, err := ResolveUser(imageUser, src.Passwd, src.Group)
		if err != nil {
			p.User = DefaultUser
			p.note("the image's USER %s cannot be resolved (%v): running as %s instead", imageUser, err, DefaultUser)
			return nil
		}
		if u.UID != 0 {
			u.Source = "image"
			p.User = u
			return nil
		}
	}
	p.User = DefaultUser
	if src.Config == nil {
		p.note("the source has no image config, so no USER: the profile runs as %s (set runtime.user to choose)", DefaultUser)
		return nil
	}
	p.note("the image runs as root: the profile runs it as %s (set runtime.user to choose); the files it reads must be readable by that user", DefaultUser)
	return nil
}
