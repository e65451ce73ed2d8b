package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/image"
)

// engine asks a Docker-compatible engine (dockerd, podman's API socket) for a
// container's name and image. It is plain HTTP over the engine's socket: the two fields
// read do not justify the engine's client library.
type engine struct {
	base string
	http *http.Client
}

// newEngine connects to host (DOCKER_HOST's syntax); nil when host is unusable.
func newEngine(host string) *engine {
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil
	}
	tr := &http.Transport{DisableCompression: true, ResponseHeaderTimeout: 2 * time.Second}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "unix", sock)
		}
		return &engine{base: "http://engine", http: &http.Client{Transport: tr, Timeout: 3 * time.Second}}
	case "tcp", "http":
		return &engine{base: "http://" + u.Host, http: &http.Client{Transport: tr, Timeout: 3 * time.Second}}
	}
	return nil
}

// engineContainer is the part of GET /containers/{id}/json the monitor reads.
type engineContainer struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Image  string `json:"Image"` // the image ID
	Config struct {
		Image  string            `json:"Image"` // the reference it was started from
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
}

// inspect fills c's name and image from the engine.
func (e *engine) inspect(ctx context.Context, c *Container) error {
	var info engineContainer
	if err := e.get(ctx, "/containers/"+url.PathEscape(c.ID)+"/json", &info); err != nil {
		return err
	}
	c.Name = strings.TrimPrefix(info.Name, "/")
	c.Image = info.Config.Image
	c.ImageID = info.Image
	// A container the kubelet runs through the engine (cri-dockerd) carries its pod's
	// names as labels, under the keys CRI-O uses for its annotations.
	applyAnnotations(c, info.Config.Labels)
	if c.PodName != "" && info.Config.Labels["io.kubernetes.docker.type"] == "podsandbox" {
		c.Sandbox, c.Name = true, sandboxName
	}
	return nil
}

// list returns the IDs of the running containers.
func (e *engine) list(ctx context.Context) ([]string, error) {
	var out []engineContainer
	if err := e.get(ctx, "/containers/json", &out); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out))
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	return ids, nil
}

func (e *engine) get(ctx context.Context, p string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+p, nil)
	if err != nil {
		return err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("engine: GET %s: %s", p, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v)
}

// fileIndex is the set of paths an image holds, with its symlinks, for RT002.
type fileIndex struct {
	files map[string]*image.File
}

// loadIndex opens ref and squashes its layers into the paths the image holds.
func loadIndex(ctx context.Context, ref string, opts image.Options) (*fileIndex, error) {
	img, err := image.Open(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	defer func() { _ = img.Close() }()
	idx, err := img.Walk(ctx)
	if err != nil {
		return nil, err
	}
	fi := &fileIndex{files: map[string]*image.File{}}
	for _, f := range idx.Files() {
		fi.files[f.Path] = f
	}
	return fi, nil
}
