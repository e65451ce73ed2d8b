package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	versions "github.com/charterhq/charter/internal/version"
	"github.com/charterhq/charter/internal/vulndb"
)

// defaultEcosystems are downloaded by a first `charter db update` with no --source and
// no --ecosystem: the distros and languages charter catalogues. Later updates refresh
// the ecosystems the database already holds.
var defaultEcosystems = []string{"Debian", "Ubuntu", "Alpine", "Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet"}

// dbOutputFormats are the -o values of the db commands.
var dbOutputFormats = []string{"table", "json"}

func newDBCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Build, update and inspect the local vulnerability database",
		Long: "charter matches packages against a local database of OSV advisories, kept under\n" +
			"$CHARTER_CACHE_DIR/vulndb (default: the user cache directory's charter/vulndb). Scans\n" +
			"never download it: `charter db update` does, and scans warn when it is older than 24 h.",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDBUpdateCmd(env), newDBStatusCmd(env))
	return cmd
}

func newDBUpdateCmd(env Env) *cobra.Command {
	var (
		sources    []string
		ecosystems []string
		mirror     string
		offline    bool
		full       bool
		format     string
		noProgress bool
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download or import OSV advisories into the local database",
		Long: "Import OSV records from --source (a folder of OSV JSON files, an OSV zip such as the\n" +
			"OSV bucket's <ecosystem>/all.zip, or an https URL of either; a folder or URL with a\n" +
			"modified_id.csv is read incrementally), or download each --ecosystem from the public OSV\n" +
			"bucket (or --mirror). With neither, the ecosystems the database already holds are\n" +
			"refreshed; a first update downloads " + strings.Join(defaultEcosystems, ", ") + ".\n\n" +
			"The new database is built beside the current one and replaces it only once it is\n" +
			"complete: a failed or interrupted update leaves the old one in use. Records a source\n" +
			"brought earlier are replaced; other sources' records are kept.",
		Example: "  charter db update\n" +
			"  charter db update --ecosystem Debian --ecosystem PyPI\n" +
			"  charter db update --source ./osv-mirror/Go/all.zip --offline\n" +
			"  charter db update --source examples/osv\n" +
			"  charter db update --source https://mirror.example.com/osv/Debian",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(dbOutputFormats, format) {
				return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(dbOutputFormats, ", "))
			}
			dir, err := vulnDBDir(env)
			if err != nil {
				return err
			}
			srcs, err := updateSources(dir, sources, ecosystems, mirror, offline)
			if err != nil {
				return err
			}
			prog := newProgress(env, noProgress)
			opts := vulndb.UpdateOptions{Full: full, Now: env.Now, HTTPClient: updateClient(prog, offline)}
			opts.Progress = func(source string, records int) {
				prog.update("importing %s: %d records", shortSource(source), records)
			}
			prog.update("updating the vulnerability database from %d source(s)", len(srcs))
			res, err := vulndb.Update(cmd.Context(), dir, opts, srcs...)
			prog.done()
			if err != nil {
				return fmt.Errorf("db update: %w (the previous database, if any, is unchanged)", err)
			}
			if format == "json" {
				return writeJSON(env.Stdout, res)
			}
			return printUpdate(env.Stdout, res)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&sources, "source", nil, "import OSV records from `DIR|ZIP|URL` (repeatable)")
	fl.StringArrayVar(&ecosystems, "ecosystem", nil, "download the OSV `ECOSYSTEM` (Debian, Ubuntu, Alpine, Go, PyPI, npm, Maven, crates.io…; repeatable)")
	fl.StringVar(&mirror, "mirror", vulndb.OSVBucket, "base `URL` of the OSV bucket or a mirror of its layout, for --ecosystem")
	fl.BoolVar(&offline, "offline", false, "never touch the network: only local --source folders and zips")
	fl.BoolVar(&full, "full", false, "import every source whole, even where an incremental update is possible")
	fl.StringVarP(&format, "format", "o", "table", "output format: "+strings.Join(dbOutputFormats, ", "))
	fl.BoolVar(&noProgress, "no-progress", false, "never draw progress on the terminal")
	return cmd
}

// updateSources turns --source and --ecosystem into the update's sources; with neither,
// it refreshes what the database in dir holds, or downloads the default ecosystems.
func updateSources(dir string, sources, ecosystems []string, mirror string, offline bool) ([]vulndb.Source, error) {
	var out []vulndb.Source
	for _, s := range sources {
		if isURL(s) {
			if offline {
				return nil, fmt.Errorf("--offline: --source %s is a URL; name a local folder or zip", s)
			}
			out = append(out, vulndb.Source{Location: s})
			continue
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			return nil, fmt.Errorf("--source %s: %w", s, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("--source %s: %w", s, errors.Unwrap(err))
		}
		out = append(out, vulndb.Source{Location: abs})
	}
	if len(sources) == 0 && len(ecosystems) == 0 {
		if offline {
			return nil, errors.New("--offline: name a local --source DIR or ZIP (an OSV export or a copy of the OSV bucket's <ecosystem>/all.zip)")
		}
		ecosystems = heldEcosystems(dir)
		if len(ecosystems) == 0 {
			ecosystems = defaultEcosystems
		}
	}
	for _, e := range ecosystems {
		if _, ok := versions.ForOSV(e); !ok {
			return nil, fmt.Errorf("--ecosystem %s: charter cannot compare that ecosystem's versions (known: %s and their releases)", e, strings.Join(defaultEcosystems, ", "))
		}
		if offline {
			return nil, fmt.Errorf("--offline: --ecosystem %s downloads from %s; name a local --source instead", e, mirror)
		}
		out = append(out, ecosystemSource(e, mirror))
	}
	return out, nil
}

// ecosystemSource is one ecosystem of the OSV bucket or of a mirror with its layout. The
// name is the same for both, so switching to a mirror replaces the bucket's records.
func ecosystemSource(eco, mirror string) vulndb.Source {
	src := vulndb.DefaultSource(eco)
	if m := strings.TrimSuffix(mirror, "/"); m != "" && m != vulndb.OSVBucket {
		src.Location = m + "/" + url.PathEscape(eco)
	}
	return src
}

// heldEcosystems are the OSV bucket ecosystems the database was last updated from.
func heldEcosystems(dir string) []string {
	db, err := vulndb.Open(dir)
	if err != nil {
		return nil
	}
	defer func() { _ = db.Close() }()
	var out []string
	for _, s := range db.Status().Sources {
		if eco, ok := strings.CutPrefix(s.Name, "osv:"); ok {
			out = append(out, eco)
		}
	}
	sort.Strings(out)
	return out
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// shortSource names a source briefly on the progress line.
func shortSource(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Host + u.Path
	}
	if strings.HasPrefix(s, "/") {
		return filepath.Base(filepath.Dir(s)) + "/" + filepath.Base(s)
	}
	return s
}

// updateClient is the HTTP client of an update: nil (the library's default) unless the
// run is offline, where every request fails, or draws progress, where downloads are
// counted for the bar. Redirects to plain http are refused, as the default client does.
func updateClient(prog *progress, offline bool) *http.Client {
	switch {
	case offline:
		return &http.Client{Transport: offlineTransport{}}
	case !prog.enabled:
		return nil
	}
	return &http.Client{
		Timeout:       30 * time.Minute,
		Transport:     &downloadBar{base: http.DefaultTransport, prog: prog},
		CheckRedirect: refusePlainRedirect,
	}
}

func refusePlainRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Scheme != "https" && !isLoopbackHost(req.URL.Hostname()) {
		return fmt.Errorf("refusing a redirect to plain http (%s)", req.URL.Redacted())
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// downloadBar counts the bytes of every response body and draws them against the
// response's length on the progress line.
type downloadBar struct {
	base http.RoundTripper
	prog *progress
}

func (d *downloadBar) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := d.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	name := path.Base(path.Dir(req.URL.Path)) + "/" + path.Base(req.URL.Path)
	resp.Body = &countingBody{rc: resp.Body, total: resp.ContentLength, name: name, prog: d.prog}
	return resp, nil
}

type countingBody struct {
	rc    io.ReadCloser
	mu    sync.Mutex
	read  int64
	total int64
	name  string
	prog  *progress
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.mu.Lock()
	first := c.read == 0 && n > 0
	c.read += int64(n)
	read := c.read
	c.mu.Unlock()
	if first || err == io.EOF {
		// The start and the end of a download are always drawn, however fast it is.
		c.prog.redraw()
	}
	c.prog.update("%s", downloadLine(c.name, read, c.total))
	return n, err
}

func (c *countingBody) Close() error { return c.rc.Close() }

// redraw lets the next update draw at once, whatever the throttle says.
func (p *progress) redraw() {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	p.last = time.Time{}
	p.mu.Unlock()
}

func downloadLine(name string, read, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("downloading %s %s MB", name, mb(read))
	}
	const width = 20
	fill := int(min(read, total) * width / total)
	return fmt.Sprintf("downloading %s [%s%s] %s/%s MB", name, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), mb(read), mb(total))
}

// printUpdate reports what an update read from each source and what the database holds.
func printUpdate(w io.Writer, res *vulndb.UpdateResult) error {
	ew := &lineWriter{w: w}
	for _, s := range res.Sources {
		how := "imported"
		if s.Incremental {
			how = "updated incrementally"
		}
		ew.printf("%s: %s, %d record(s) read, %d stored, %d withdrawn\n", s.Source, how, s.Read, s.Imported, s.Withdrawn)
		if n := s.Warnings(); n > 0 {
			ew.printf("  %d left out: %s\n", n, countList(s.Skipped))
			for _, ex := range s.Examples {
				ew.printf("  e.g. %s\n", ex)
			}
		}
	}
	st := res.Status
	ew.printf("vulnerability database %s: %d advisories, built %s\n", st.Path, st.Records, st.Built.UTC().Format(time.RFC3339))
	if len(st.Ecosystems) > 0 {
		ew.printf("  %s\n", countList(st.Ecosystems))
	}
	return ew.err
}

// countList renders counts by key, keys sorted: "Debian:12 4, Go 2".
func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) printf(format string, args ...any) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, format, args...)
	}
}

// dbStatus is `charter db status -o json`: the database's status, its age and whether
// scans will call it stale.
type dbStatus struct {
	vulndb.Status
	AgeSeconds int64 `json:"ageSeconds"`
	Stale      bool  `json:"stale"`
}

func newDBStatusCmd(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the local vulnerability database: age, sources and counts",
		Long: "Show where the database is, when it was built, each source's last import and what it\n" +
			"holds by ecosystem. Exit 2 when there is no database.",
		Example: "  charter db status\n  charter db status -o json | jq .stale",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(dbOutputFormats, format) {
				return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(dbOutputFormats, ", "))
			}
			dir, err := vulnDBDir(env)
			if err != nil {
				return err
			}
			db, err := vulndb.Open(dir)
			if err != nil {
				return err
			}
			st := db.Status()
			if err := db.Close(); err != nil {
				return err
			}
			now := env.Now()
			if format == "json" {
				return writeJSON(env.Stdout, dbStatus{Status: st, AgeSeconds: int64(st.Age(now) / time.Second), Stale: st.Stale(now)})
			}
			return printStatus(env.Stdout, st, now)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "table", "output format: "+strings.Join(dbOutputFormats, ", "))
	return cmd
}

func printStatus(w io.Writer, st vulndb.Status, now time.Time) error {
	ew := &lineWriter{w: w}
	ew.printf("database    %s\n", st.Path)
	ew.printf("built       %s (%s ago)\n", st.Built.UTC().Format(time.RFC3339), humanAge(st.Age(now)))
	if st.Stale(now) {
		ew.printf("state       stale: older than %s; run `charter db update`\n", humanAge(vulndb.StaleAfter))
	} else {
		ew.printf("state       fresh (scans warn after %s)\n", humanAge(vulndb.StaleAfter))
	}
	ew.printf("advisories  %d\n", st.Records)
	ew.printf("ecosystems  %s\n", countList(st.Ecosystems))
	if ew.err != nil {
		return ew.err
	}
	ew.printf("\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tRECORDS\tUPDATED\tHOW\tLOCATION")
	for _, s := range st.Sources {
		how := "whole"
		if s.Incremental {
			how = "incremental"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Name, s.Records, s.Updated.UTC().Format(time.RFC3339), how, s.Location)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}
