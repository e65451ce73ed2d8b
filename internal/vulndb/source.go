package vulndb

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Source is where an update reads OSV records from: a folder of OSV JSON files, an OSV
// zip (the OSV bucket's <ecosystem>/all.zip layout: one record per .json entry), or an
// https URL. A URL ending in .zip is downloaded as a zip; any other URL is an OSV
// ecosystem prefix (https://osv-vulnerabilities.storage.googleapis.com/Go), read as
// <url>/all.zip, or incrementally through <url>/modified_id.csv and <url>/<ID>.json.
// A folder with a modified_id.csv is read incrementally the same way.
type Source struct {
	// Name identifies the source in the status and across updates; it defaults to
	// Location. Updating a source replaces only the records it brought.
	Name     string
	Location string
}

// OSVBucket is the public OSV data set's base URL.
const OSVBucket = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultSource is the public OSV data for one ecosystem ("Go", "PyPI", "Debian").
func DefaultSource(ecosystem string) Source {
	return Source{Name: "osv:" + ecosystem, Location: OSVBucket + "/" + url.PathEscape(ecosystem)}
}

func (s Source) name() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Location
}

// ErrZipBomb is returned when an archive decompresses far beyond its size.
var ErrZipBomb = errors.New("archive decompresses beyond its limits (zip bomb?)")

// feed reads one source's records.
type feed interface {
	// modified returns the source's modified_id.csv, or nil when it has none.
	modified(ctx context.Context) ([]byte, error)
	// one returns the record a modified_id.csv row names; fs.ErrNotExist when gone.
	one(ctx context.Context, id string) ([]byte, error)
	// all calls fn with every record of the source.
	all(ctx context.Context, fn func(name string, data []byte) error) error
	close() error
}

// feedConfig is what every feed needs from the update.
type feedConfig struct {
	lim    *Limits
	warn   func(reason, detail string)
	client *http.Client
	tmpDir string
	// insecureHTTP allows plain http to hosts other than loopback.
	insecureHTTP bool
}

func openFeed(src Source, cfg *feedConfig) (feed, error) {
	loc := src.Location
	if strings.HasPrefix(loc, "https://") || strings.HasPrefix(loc, "http://") {
		u, err := url.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", loc, err)
		}
		if err := cfg.allowURL(u); err != nil {
			return nil, err
		}
		return &urlFeed{base: u, cfg: cfg}, nil
	}
	fi, err := os.Stat(loc)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", loc, err)
	}
	if fi.IsDir() {
		return &dirFeed{root: loc, cfg: cfg}, nil
	}
	return openZipFeed(loc, cfg)
}

// allowURL refuses plain http except to loopback, so advisories cannot be swapped in
// transit.
func (cfg *feedConfig) allowURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if cfg.insecureHTTP || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("source %s: plain http is refused; use https (or the insecure option for a trusted mirror)", u.Redacted())
	}
	return fmt.Errorf("source %s: unsupported URL scheme %q", u.Redacted(), u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readCapped reads at most max bytes, failing when there are more.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errTooLarge
	}
	return b, nil
}

var errTooLarge = errors.New("too large")

// rowPath turns a modified_id.csv ID ("GO-2024-0001", or "Go/GO-2024-0001" in the
// bucket-wide list) into a relative path, refusing anything that could leave the source.
func rowPath(id string) (string, bool) {
	parts := strings.Split(id, "/")
	if len(parts) > 2 {
		return "", false
	}
	for _, p := range parts {
		if !validID(p) || p == "." || p == ".." || strings.Contains(p, "..") {
			return "", false
		}
	}
	return id + ".json", true
}

// dirFeed reads a folder tree of *.json records; symlinks are not followed.
type dirFeed struct {
	root string
	cfg  *feedConfig
}

func (d *dirFeed) modified(context.Context) ([]byte, error) {
	f, err := os.Open(filepath.Join(d.root, "modified_id.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	b, err := readCapped(f, d.cfg.lim.MaxCSVBytes)
	if err != nil {
		return nil, fmt.Errorf("%s/modified_id.csv: %w", d.root, err)
	}
	return b, nil
}

func (d *dirFeed) one(_ context.Context, id string) ([]byte, error) {
	rel, ok := rowPath(id)
	if !ok {
		return nil, &skip{reason: SkipUnsafePath, detail: shorten(id)}
	}
	return d.readFile(filepath.Join(d.root, filepath.FromSlash(rel)))
}

func (d *dirFeed) readFile(p string) ([]byte, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &skip{reason: SkipUnreadableFile, detail: "not a regular file"}
	}
	if fi.Size() > d.cfg.lim.MaxRecordBytes {
		return nil, &skip{reason: SkipTooLarge, detail: filepath.Base(p)}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	b, err := readCapped(f, d.cfg.lim.MaxRecordBytes)
	if errors.Is(err, errTooLarge) {
		return nil, &skip{reason: SkipTooLarge, detail: filepath.Base(p)}
	}
	return b, err
}

func (d *dirFeed) all(ctx context.Context, fn func(string, []byte) error) error {
	n := 0
	return filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
			return nil
		}
		if n++; n > d.cfg.lim.MaxFiles {
			return fmt.Errorf("%s: more than %d records", d.root, d.cfg.lim.MaxFiles)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.root, p)
		b, err := d.readFile(p)
		var s *skip
		if errors.As(err, &s) {
			d.cfg.warn(s.reason, rel)
			return nil
		}
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), b)
	})
}

func (d *dirFeed) close() error { return nil }

// zipFeed reads an OSV zip, never trusting its headers: every entry is read through a
// limit, and an entry that inflates far beyond its compressed size fails the import.
type zipFeed struct {
	zr     *zip.ReadCloser
	path   string
	cfg    *feedConfig
	remove bool // a downloaded temporary file
}

func openZipFeed(p string, cfg *feedConfig) (*zipFeed, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable zip: %w", p, err)
	}
	return &zipFeed{zr: zr, path: p, cfg: cfg}, nil
}

func (z *zipFeed) modified(context.Context) ([]byte, error) { return nil, nil }

func (z *zipFeed) one(context.Context, string) ([]byte, error) { return nil, fs.ErrNotExist }

func (z *zipFeed) all(ctx context.Context, fn func(string, []byte) error) error {
	if len(z.zr.File) > z.cfg.lim.MaxFiles {
		return fmt.Errorf("%s: %d entries, more than %d", z.path, len(z.zr.File), z.cfg.lim.MaxFiles)
	}
	var total int64
	seen := make(map[string]bool, len(z.zr.File))
	for _, f := range z.zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := f.Name
		if strings.HasSuffix(name, "/") || !strings.HasSuffix(name, ".json") {
			continue
		}
		if !safeEntryName(name) {
			z.cfg.warn(SkipUnsafePath, shorten(name))
			continue
		}
		if seen[name] {
			z.cfg.warn(SkipDuplicate, shorten(name))
			continue
		}
		seen[name] = true
		b, n, err := z.readEntry(f)
		total += n
		if total > z.cfg.lim.MaxArchiveBytes {
			return fmt.Errorf("%s: %w: more than %d bytes uncompressed", z.path, ErrZipBomb, z.cfg.lim.MaxArchiveBytes)
		}
		var s *skip
		if errors.As(err, &s) {
			z.cfg.warn(s.reason, shorten(name))
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", z.path, name, err)
		}
		if err := fn(name, b); err != nil {
			return err
		}
	}
	return nil
}

// readEntry inflates one entry through the record limit and the ratio check; n is the
// number of bytes inflated.
func (z *zipFeed) readEntry(f *zip.File) ([]byte, int64, error) {
	if f.UncompressedSize64 > uint64(max(z.cfg.lim.MaxRecordBytes, 0)) {
		return nil, 0, &skip{reason: SkipTooLarge}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = rc.Close() }()
	b, err := readCapped(rc, z.cfg.lim.MaxRecordBytes)
	n := int64(len(b))
	if n > 1<<20 && uint64(n) > uint64(max(z.cfg.lim.MaxRatio, 1))*f.CompressedSize64 {
		return nil, n, fmt.Errorf("%w: %d bytes from %d", ErrZipBomb, n, f.CompressedSize64)
	}
	if errors.Is(err, errTooLarge) {
		return nil, n, &skip{reason: SkipTooLarge}
	}
	if err != nil {
		return nil, n, err // a corrupt entry: checksum or inflate error
	}
	return b, n, nil
}

// safeEntryName refuses absolute, parent-relative, backslashed and NUL-bearing names.
func safeEntryName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || path.IsAbs(name) {
		return false
	}
	clean := path.Clean(name)
	return clean == name && clean != ".." && !strings.HasPrefix(clean, "../")
}

func (z *zipFeed) close() error {
	err := z.zr.Close()
	if z.remove {
		if rerr := os.Remove(z.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// urlFeed reads an OSV ecosystem prefix or a zip over https.
type urlFeed struct {
	base *url.URL
	cfg  *feedConfig
	zip  *zipFeed
}

func (u *urlFeed) isZip() bool { return strings.HasSuffix(u.base.Path, ".zip") }

func (u *urlFeed) at(rel string) string {
	v := *u.base
	v.Path = strings.TrimSuffix(v.Path, "/") + "/" + rel
	v.RawPath = ""
	return v.String()
}

func (u *urlFeed) get(ctx context.Context, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := u.cfg.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", redact(target), err)
	}
	if resp.StatusCode == http.StatusNotFound {
		_ = resp.Body.Close()
		return nil, fs.ErrNotExist
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("download %s: %s", redact(target), resp.Status)
	}
	return resp, nil
}

func (u *urlFeed) fetch(ctx context.Context, target string, max int64) ([]byte, error) {
	resp, err := u.get(ctx, target)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := readCapped(resp.Body, max)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", redact(target), err)
	}
	return b, nil
}

func (u *urlFeed) modified(ctx context.Context) ([]byte, error) {
	if u.isZip() {
		return nil, nil
	}
	b, err := u.fetch(ctx, u.at("modified_id.csv"), u.cfg.lim.MaxCSVBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (u *urlFeed) one(ctx context.Context, id string) ([]byte, error) {
	rel, ok := rowPath(id)
	if !ok || u.isZip() {
		return nil, &skip{reason: SkipUnsafePath, detail: shorten(id)}
	}
	b, err := u.fetch(ctx, u.at(rel), u.cfg.lim.MaxRecordBytes)
	if errors.Is(err, errTooLarge) {
		return nil, &skip{reason: SkipTooLarge, detail: id}
	}
	return b, err
}

func (u *urlFeed) all(ctx context.Context, fn func(string, []byte) error) error {
	target := u.base.String()
	if !u.isZip() {
		target = u.at("all.zip")
	}
	p, err := u.download(ctx, target)
	if err != nil {
		return err
	}
	z, err := openZipFeed(p, u.cfg)
	if err != nil {
		_ = os.Remove(p)
		return fmt.Errorf("download %s: %w", redact(target), err)
	}
	z.remove = true
	u.zip = z
	return z.all(ctx, fn)
}

// download saves a zip beside the database (same disk, removed after the import).
func (u *urlFeed) download(ctx context.Context, target string) (string, error) {
	resp, err := u.get(ctx, target)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("download %s: not found", redact(target))
	}
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.ContentLength > u.cfg.lim.MaxDownloadBytes {
		return "", fmt.Errorf("download %s: %d bytes, more than the %d allowed", redact(target), resp.ContentLength, u.cfg.lim.MaxDownloadBytes)
	}
	f, err := os.CreateTemp(u.cfg.tmpDir, dlPrefix+"*.zip")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, u.cfg.lim.MaxDownloadBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > u.cfg.lim.MaxDownloadBytes {
		err = fmt.Errorf("more than the %d bytes allowed", u.cfg.lim.MaxDownloadBytes)
	}
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("truncated: %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("download %s: %w", redact(target), err)
	}
	return f.Name(), nil
}

func (u *urlFeed) close() error {
	if u.zip != nil {
		return u.zip.close()
	}
	return nil
}

// redact drops credentials and query strings from a URL before it is printed.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}

// csvRow is one modified_id.csv line.
type csvRow struct {
	t  time.Time
	id string
}

// changedSince reads modified_id.csv ("2024-05-01T12:00:00Z,GO-2024-0001" per line)
// and returns the rows newer than cursor (all rows when cursor is zero) and the newest
// time in the file; ok is false when the file could not be read to its end.
func changedSince(csv []byte, cursor time.Time, warn func(reason, detail string)) (rows []csvRow, newest time.Time, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(csv))
	sc.Buffer(nil, 4096)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		ts, id, found := strings.Cut(line, ",")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !found || err != nil {
			warn("bad modified_id.csv row", shorten(line))
			continue
		}
		if t.After(newest) {
			newest = t
		}
		if t.After(cursor) {
			rows = append(rows, csvRow{t: t, id: strings.TrimSpace(id)})
		}
	}
	return rows, newest, sc.Err() == nil
}
