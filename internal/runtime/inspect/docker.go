package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/runtime/profile"
)

// maxInspect bounds a daemon's answer; a real one is a few kilobytes.
const maxInspect = 8 << 20

// dockerContainer holds the fields of GET /containers/{id}/json that the comparison reads.
type dockerContainer struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Image  string `json:"Image"`
	Config struct {
		User  string `json:"User"`
		Image string `json:"Image"`
	} `json:"Config"`
	HostConfig struct {
		Privileged     bool              `json:"Privileged"`
		ReadonlyRootfs bool              `json:"ReadonlyRootfs"`
		CapAdd         []string          `json:"CapAdd"`
		CapDrop        []string          `json:"CapDrop"`
		SecurityOpt    []string          `json:"SecurityOpt"`
		Memory         int64             `json:"Memory"`
		NanoCPUs       int64             `json:"NanoCpus"`
		CPUQuota       int64             `json:"CpuQuota"`
		CPUPeriod      int64             `json:"CpuPeriod"`
		PidsLimit      *int64            `json:"PidsLimit"`
		NetworkMode    string            `json:"NetworkMode"`
		PidMode        string            `json:"PidMode"`
		IpcMode        string            `json:"IpcMode"`
		UTSMode        string            `json:"UTSMode"`
		UsernsMode     string            `json:"UsernsMode"`
		Tmpfs          map[string]string `json:"Tmpfs"`
	} `json:"HostConfig"`
	Mounts []struct {
		Type        string `json:"Type"`
		Destination string `json:"Destination"`
		RW          bool   `json:"RW"`
	} `json:"Mounts"`
}

// DockerContainer is what ParseDocker reads from a container's inspect document.
type DockerContainer struct {
	Settings Settings
	// Image is the image ID the container runs; ImageRef the name it was started with.
	Image, ImageRef string
}

// ParseDocker reads the Docker Engine API's container inspect document
// (GET /containers/{id}/json, `docker inspect`).
func ParseDocker(data []byte) (*DockerContainer, error) {
	var c dockerContainer
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container inspect document: %w", err)
	}
	if c.ID == "" {
		return nil, errors.New("container inspect document: no Id")
	}
	hc := c.HostConfig
	name := strings.TrimPrefix(c.Name, "/")
	if name == "" {
		name = c.ID[:min(12, len(c.ID))]
	}
	s := Settings{
		Location:     report.Location{Resource: "container/" + name, Container: name, Image: c.Config.Image},
		User:         c.Config.User,
		Privileged:   hc.Privileged,
		ReadOnlyRoot: hc.ReadonlyRootfs,
		Caps:         EffectiveCaps(hc.CapAdd, hc.CapDrop),
		MemoryBytes:  hc.Memory,
		Seccomp:      SeccompDefault,
		NetworkKnown: true,
		Networked:    hc.NetworkMode != "none",
	}
	for _, opt := range hc.SecurityOpt {
		// key=value, or the older key:value spelling.
		k, v := opt, ""
		if i := strings.IndexAny(opt, "=:"); i >= 0 {
			k, v = opt[:i], opt[i+1:]
		}
		switch {
		case k == "no-new-privileges" && (v == "" || v == "true"):
			s.NoNewPrivileges = true
		case k == "seccomp" && v == "unconfined":
			s.Seccomp = SeccompUnconfined
		case k == "seccomp" && v != "" && v != "builtin":
			s.Seccomp = SeccompCustom
			var sc profile.Seccomp
			if json.Unmarshal([]byte(v), &sc) == nil && sc.DefaultAction != "" {
				s.SeccompProfile = &sc
			}
		}
	}
	switch {
	case hc.NanoCPUs > 0:
		s.MilliCPU = hc.NanoCPUs / 1e6
	case hc.CPUQuota > 0:
		period := hc.CPUPeriod
		if period <= 0 {
			period = 100000
		}
		s.MilliCPU = hc.CPUQuota * 1000 / period
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		s.Pids = *hc.PidsLimit
	}
	for ns, mode := range map[string]string{"network": hc.NetworkMode, "pid": hc.PidMode, "ipc": hc.IpcMode, "uts": hc.UTSMode, "user": hc.UsernsMode} {
		if mode == "host" {
			s.HostNamespaces = append(s.HostNamespaces, ns)
		}
	}
	slices.Sort(s.HostNamespaces)
	for _, m := range c.Mounts {
		if m.RW && m.Type != "tmpfs" {
			s.WritableMounts = append(s.WritableMounts, m.Destination)
		}
	}
	slices.Sort(s.WritableMounts)
	return &DockerContainer{Settings: s, Image: c.Image, ImageRef: c.Config.Image}, nil
}

// Docker is a client of the Docker Engine API, enough to inspect containers and images.
type Docker struct {
	host string
	http *http.Client
	base string
}

// NewDocker connects to host, as DOCKER_HOST writes it: unix:///path/docker.sock or
// tcp://host:port (plain HTTP); "" means unix:///var/run/docker.sock.
func NewDocker(host string) (*Docker, error) {
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("DOCKER_HOST %q: %w", host, err)
	}
	d := &Docker{host: host}
	tr := &http.Transport{ResponseHeaderTimeout: 30 * time.Second}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		}
		d.base = "http://docker"
	case "tcp", "http":
		d.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("DOCKER_HOST %q: want unix:///path/docker.sock or tcp://host:port", host)
	}
	d.http = &http.Client{Transport: tr}
	return d, nil
}

// get fetches an API path; a 404 is ErrNotFound.
func (d *Docker) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker daemon at %s: %w", d.host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxInspect+1))
	if err != nil {
		return nil, fmt.Errorf("docker daemon at %s: %w", d.host, err)
	}
	if len(body) > maxInspect {
		return nil, fmt.Errorf("docker daemon at %s: answer to %s is larger than %d bytes", d.host, path, maxInspect)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrNotFound
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("docker daemon at %s: %s: %s", d.host, resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	return body, nil
}

// ErrNotFound is returned for a container or image the daemon does not have.
var ErrNotFound = errors.New("not found")

// Container inspects a container by ID or name.
func (d *Docker) Container(ctx context.Context, id string) (*DockerContainer, error) {
	body, err := d.get(ctx, "/containers/"+url.PathEscape(id)+"/json")
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("docker:%s: no such container at %s: %w", id, d.host, err)
	}
	if err != nil {
		return nil, err
	}
	return ParseDocker(body)
}

// ImageConfig returns an image's config as the daemon has it (GET /images/{id}/json).
func (d *Docker) ImageConfig(ctx context.Context, id string) (*v1.ConfigFile, error) {
	body, err := d.get(ctx, "/images/"+url.PathEscape(id)+"/json")
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	var img struct {
		Config v1.Config `json:"Config"`
	}
	if err := json.Unmarshal(body, &img); err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	return &v1.ConfigFile{Config: img.Config}, nil
}

// PodmanHost is the Podman API socket `charter inspect podman:` talks to, as Podman's
// own client finds it: $CONTAINER_HOST, else the user's socket under $XDG_RUNTIME_DIR
// when it exists, else the system socket. Podman serves the Docker-compatible API there.
func PodmanHost(getenv func(string) string, exists func(string) bool) string {
	if h := getenv("CONTAINER_HOST"); h != "" {
		return h
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		if p := filepath.Join(d, "podman", "podman.sock"); exists(p) {
			return "unix://" + p
		}
	}
	return "unix:///run/podman/podman.sock"
}
