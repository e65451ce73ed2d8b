package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// engine is a container engine that speaks the Docker Engine API: Docker itself, or
// Podman's Docker-compatible service.
type engine struct {
	name  string // for messages
	hosts func(getenv func(string) string) []string
	cli   string // a CLI that can `save` when no API socket answers; "" for none
}

var dockerEngine = engine{
	name: "docker",
	hosts: func(getenv func(string) string) []string {
		if h := getenv("DOCKER_HOST"); h != "" {
			return []string{h}
		}
		return []string{"unix:///var/run/docker.sock"}
	},
}

// Podman is reached through its Docker-compatible API socket (`podman system service`,
// or the podman.socket unit); without one, `podman save` writes a docker-archive.
var podmanEngine = engine{
	name: "podman",
	hosts: func(getenv func(string) string) []string {
		if h := getenv("CONTAINER_HOST"); h != "" {
			return []string{h}
		}
		hs := []string{"unix:///run/podman/podman.sock"}
		if d := getenv("XDG_RUNTIME_DIR"); d != "" {
			hs = append([]string{"unix://" + d + "/podman/podman.sock"}, hs...)
		}
		return hs
	},
	cli: "podman",
}

// daemonName is what an engine accepts as an image name or ID; anything else could
// bend the API path.
var daemonName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,511}$`)

// openDaemon exports the image from the engine into a scratch docker-archive (the
// Engine API has no per-layer read), then reads that like docker-archive:.
func openDaemon(ctx context.Context, im *Image, ref string, eng engine) error {
	if !daemonName.MatchString(ref) || strings.Contains(ref, "..") {
		return newErr(ErrInvalidRef, im.ref, "give an image name, name:tag, name@digest or ID", nil)
	}
	scratch, err := im.scratchFile()
	if err != nil {
		return newErr(ErrUnreachable, im.ref, "", err)
	}
	var unreachable error
	for _, host := range eng.hosts(im.opts.Getenv) {
		c, err := newDaemonClient(host, im.opts.Getenv)
		if err != nil {
			unreachable = err
			continue
		}
		id, err := c.inspect(ctx, ref)
		if err == nil {
			if im.fromCachedConfig(c, ref, id, scratch) {
				return nil
			}
			err = c.export(ctx, ref, scratch, im.opts.Limits.MaxImageBytes)
		}
		if err == nil {
			return im.openScratch(scratch)
		}
		if !errors.Is(err, ErrUnreachable) {
			return withRef(err, im.ref, ErrUnreachable)
		}
		unreachable = err
	}
	if eng.cli != "" {
		if bin, err := exec.LookPath(eng.cli); err == nil {
			if err := saveWithCLI(ctx, bin, ref, scratch); err != nil {
				kind := ErrUnreachable
				if msg := err.Error(); strings.Contains(msg, "not known") || strings.Contains(msg, "not found") {
					kind = ErrNotFound
				}
				return newErr(kind, im.ref, "", err)
			}
			return im.openScratch(scratch)
		}
	}
	hint := "start the docker daemon or set DOCKER_HOST"
	if eng.name == "podman" {
		hint = "start `podman system service` (or set CONTAINER_HOST), or install the podman CLI"
	}
	return newErr(ErrUnreachable, im.ref, hint, unreachable)
}

// scratchFile names a file under the cache directory for an exported archive; Close
// removes it.
func (im *Image) scratchFile() (string, error) {
	dir, err := im.opts.cacheDir()
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "export-*.tar")
	if err != nil {
		return "", err
	}
	name := f.Name()
	im.closers = append(im.closers, func() error { return os.Remove(name) })
	return name, f.Close()
}

func (im *Image) openScratch(name string) error {
	s, err := openTarStore(name, im.opts.Limits.MaxFiles)
	if err != nil {
		return withRef(err, im.ref, ErrNotImage)
	}
	im.closers = append(im.closers, s.f.Close)
	if err := im.fromDockerArchive(s, ""); err != nil {
		return err
	}
	im.storeConfig()
	return nil
}

func saveWithCLI(ctx context.Context, bin, ref, out string) error {
	// The name is passed after "--" so it can never be read as a flag.
	cmd := exec.CommandContext(ctx, bin, "save", "--format", "docker-archive", "-o", out, "--", ref) //nolint:gosec // bin is from PATH, ref matched daemonName
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman save: %s", oneLine(strings.TrimSpace(string(msg))))
	}
	return nil
}

// daemonClient talks to one Engine API endpoint.
type daemonClient struct {
	host string
	http *http.Client
	base string
}

func newDaemonClient(host string, getenv func(string) string) (*daemonClient, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	tr := &http.Transport{DisableCompression: true}
	c := &daemonClient{host: host, http: &http.Client{Transport: tr}}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}
		c.base = "http://engine"
	case "tcp", "http", "https":
		c.base = "http://" + u.Host
		if u.Scheme == "https" || getenv("DOCKER_TLS_VERIFY") != "" {
			cfg, err := engineTLS(getenv("DOCKER_CERT_PATH"))
			if err != nil {
				return nil, err
			}
			tr.TLSClientConfig = cfg
			c.base = "https://" + u.Host
		}
	default:
		return nil, fmt.Errorf("%s: only unix:// and tcp:// engine hosts are supported", host)
	}
	return c, nil
}

// engineTLS loads the client certificate and CA that DOCKER_CERT_PATH holds.
func engineTLS(dir string) (*tls.Config, error) {
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return nil, fmt.Errorf("engine TLS: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("engine TLS: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("engine TLS: ca.pem holds no certificate")
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// export streams GET /images/{name}/get (docker save) into the file out.
func (c *daemonClient) export(ctx context.Context, ref, out string, maxBytes int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/images/"+ref+"/get", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return newErr(ErrUnreachable, "", "", fmt.Errorf("%s: %w", c.host, err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return c.apiError(resp)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return newErr(ErrUnreachable, "", "", fmt.Errorf("exporting from %s: %w", c.host, err))
	}
	if n > maxBytes {
		return newErr(ErrLimit, "", "", fmt.Errorf("export is over %d bytes (Limits.MaxImageBytes)", maxBytes))
	}
	return nil
}

func (c *daemonClient) apiError(resp *http.Response) error {
	var body struct{ Message string }
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(b, &body)
	cause := fmt.Errorf("%s: %s", c.host, cmpOr(body.Message, resp.Status))
	switch resp.StatusCode {
	case http.StatusNotFound:
		return newErr(ErrNotFound, "", "the engine does not have it: pull or load it first", cause)
	case http.StatusUnauthorized, http.StatusForbidden:
		return newErr(ErrUnauthorized, "", "", cause)
	}
	return newErr(ErrUnreachable, "", "", cause)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
