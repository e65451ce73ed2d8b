package inventory

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// sqlStore is the Store over database/sql; SQLite and PostgreSQL differ only in their
// dialect.
type sqlStore struct {
	db *sql.DB
	d  *dialect
}

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// ident is what an image is recorded once per: its digest, else its reference.
func (img *Image) ident() string {
	if img.Digest != "" {
		return img.Digest
	}
	return "ref:" + img.Reference
}

func (s *sqlStore) Close() error { return s.db.Close() }

func (s *sqlStore) Add(ctx context.Context, img *Image) (bool, error) {
	added, err := s.AddAll(ctx, []*Image{img})
	if err != nil {
		return false, err
	}
	return added[0], nil
}

func (s *sqlStore) AddAll(ctx context.Context, imgs []*Image) ([]bool, error) {
	added := make([]bool, len(imgs))
	if len(imgs) == 0 {
		return added, nil
	}
	for _, img := range imgs {
		if img.Reference == "" && img.Digest == "" {
			return nil, errors.New("inventory: an image needs a digest or a reference")
		}
	}
	tx, conn, done, err := s.beginAdd(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	defer func() { _ = tx.Rollback() }()
	ids := make([]int64, len(imgs))
	if s.d.dollar {
		err = s.insertImagesBatch(ctx, tx, imgs, ids, added)
	} else {
		err = s.insertImagesOneByOne(ctx, tx, imgs, ids, added)
	}
	if err != nil {
		return nil, err
	}
	if err := s.addPackages(ctx, tx, conn, imgs, ids, added); err != nil {
		return nil, err
	}
	return added, tx.Commit()
}

// insertImagesOneByOne records the image rows and the new images' layers, one image at
// a time: what SQLite, in the same process, does fastest.
func (s *sqlStore) insertImagesOneByOne(ctx context.Context, tx *sql.Tx, imgs []*Image, ids []int64, added []bool) error {
	var err error
	for i, img := range imgs {
		if ids[i], added[i], err = s.insertImage(ctx, tx, img); err != nil {
			return err
		}
		if added[i] {
			if err := s.addLayers(ctx, tx, ids[i], img.Layers); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertImagesBatch records the image rows and the new images' layers with one
// statement for all the images and one for all their layers: on PostgreSQL each
// statement is a round trip to the server, and on a busy machine a round trip waits
// for both processes to be scheduled. The first of several images with one identity in
// the batch is the one added; the others, and the images already recorded, only update
// the reference, as insertImage does.
func (s *sqlStore) insertImagesBatch(ctx context.Context, tx *sql.Tx, imgs []*Image, ids []int64, added []bool) error {
	first := map[string]int{} // ident → index of its first image in the batch
	var fresh []int
	for i, img := range imgs {
		if _, ok := first[img.ident()]; !ok {
			first[img.ident()] = i
			fresh = append(fresh, i)
		}
	}
	now := nowUTC()
	row := func(k int) []any {
		img := imgs[fresh[k]]
		when := img.Added
		if when.IsZero() {
			when = now
		}
		var created *time.Time
		if !img.Created.IsZero() {
			c := img.Created.UTC()
			created = &c
		}
		return []any{img.ident(), img.Digest, img.Reference, created, when.UTC(), img.Distro, len(img.Packages), img.Index}
	}
	q, args := unnestInsert(imagesTable, len(fresh), row)
	got := map[string]int64{}
	if err := scanIDs(ctx, tx, q+` RETURNING id, ident`, args, got); err != nil {
		return fmt.Errorf("recording images: %w", err)
	}
	var layers []imageLayer
	for i, img := range imgs {
		id, ok := got[img.ident()]
		if ok && first[img.ident()] == i {
			ids[i], added[i] = id, true
			for k, l := range img.Layers {
				layers = append(layers, imageLayer{id, k, l})
			}
			continue
		}
		if err := s.updateImage(ctx, tx, img); err != nil {
			return fmt.Errorf("recording image %s: %w", img.Reference, err)
		}
	}
	return s.insertRows(ctx, tx, layersTable, len(layers), func(i int) []any {
		return []any{layers[i].image, layers[i].idx, layers[i].diffID}
	})
}

type imageLayer struct {
	image  int64
	idx    int
	diffID string
}

// beginAdd starts the transaction of an add. On SQLite it runs with foreign keys off:
// a multi-row insert into a table with a foreign key could abort half-way, so SQLite
// journals every page it touches to undo the statement alone, and in a store of
// thousands of images that journal was a third of the CPU of an add. The rows an add
// links to are the images its own transaction created. done restores the setting
// (the pragma is ignored inside a transaction, hence the connection of its own).
func (s *sqlStore) beginAdd(ctx context.Context) (*sql.Tx, *sql.Conn, func(), error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if s.d.dollar {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			_ = conn.Close()
			return nil, nil, nil, err
		}
		return tx, conn, func() { _ = conn.Close() }, nil
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		_ = conn.Close()
		return nil, nil, nil, err
	}
	done := func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); err != nil {
			// never hand back a connection that skips foreign keys
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return tx, conn, done, nil
}

// insertImage records the image row, or updates the reference of one recorded before
// (keeping its packages). An SBOM's "sbom:FILE" never replaces an image reference.
func (s *sqlStore) insertImage(ctx context.Context, tx *sql.Tx, img *Image) (int64, bool, error) {
	added := img.Added
	if added.IsZero() {
		added = nowUTC()
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.d.bind(`INSERT INTO images (ident, digest, reference, created, added, distro, packages, index_digest)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ident) DO NOTHING RETURNING id`),
		img.ident(), img.Digest, img.Reference, nullTime(img.Created), added.UTC(), img.Distro, len(img.Packages), img.Index).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, s.updateImage(ctx, tx, img)
	}
	if err != nil {
		return 0, false, fmt.Errorf("recording image %s: %w", img.Reference, err)
	}
	return id, true, nil
}

// updateImage updates an image recorded before: its reference (an SBOM's "sbom:FILE"
// never replaces an image reference) and the index it was added through, when known.
func (s *sqlStore) updateImage(ctx context.Context, tx *sql.Tx, img *Image) error {
	if _, err := tx.ExecContext(ctx, s.d.bind(`UPDATE images SET reference = ? WHERE ident = ? AND (reference LIKE 'sbom:%' OR ? NOT LIKE 'sbom:%')`),
		img.Reference, img.ident(), img.Reference); err != nil {
		return err
	}
	if img.Index == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.bind(`UPDATE images SET index_digest = ? WHERE ident = ?`), img.Index, img.ident())
	return err
}

func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

func (s *sqlStore) addLayers(ctx context.Context, tx *sql.Tx, id int64, layers []string) error {
	return s.insertRows(ctx, tx, layersTable, len(layers), func(i int) []any {
		return []any{id, i, layers[i]}
	})
}

// table names the columns of a bulk insert and their PostgreSQL array types.
type table struct {
	name   string
	cols   []string
	types  []string // "bigint", "int", "text" or "timestamptz" (PostgreSQL only)
	suffix string   // ON CONFLICT … (PostgreSQL; SQLite inserts OR IGNORE)
}

// insertRows inserts n rows: on SQLite with multi-row INSERTs of as many rows as the
// parameter limit allows (the statement for a whole chunk parsed once); on PostgreSQL
// with one INSERT … SELECT FROM unnest(arrays), one parameter per column, whatever n.
//
// On SQLite the statements are INSERT OR IGNORE: a multi-row INSERT that could abort
// half-way (any NOT NULL or UNIQUE check does) makes SQLite journal every page it
// touches so it can undo the statement alone, and that journal was a third of the CPU
// of an add. Nothing here can abort a row: values are never NULL, layer and link rows
// belong to images this transaction created, and a component already stored is what
// ON CONFLICT (ident) DO NOTHING skips on PostgreSQL.
func (s *sqlStore) insertRows(ctx context.Context, tx *sql.Tx, t table, n int, row func(int) []any) error {
	if n == 0 {
		return nil
	}
	if s.d.dollar {
		return s.insertUnnest(ctx, tx, t, n, row)
	}
	cols := len(t.cols)
	prefix := `INSERT OR IGNORE INTO ` + t.name + ` (` + strings.Join(t.cols, ", ") + `) VALUES `
	per := min(s.d.maxParams/cols, 500)
	var full *sql.Stmt
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		q := prefix + placeholders(end-start, cols) //nolint:gosec // table and column names are constants; values are parameters
		var err error
		switch {
		case end-start < per:
			_, err = tx.ExecContext(ctx, q, args...)
		case full == nil:
			if full, err = tx.PrepareContext(ctx, q); err == nil {
				_, err = full.ExecContext(ctx, args...)
			}
		default:
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) insertUnnest(ctx context.Context, tx *sql.Tx, t table, n int, row func(int) []any) error {
	q, args := unnestInsert(t, n, row)
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// unnestInsert is the INSERT … SELECT FROM unnest(arrays) of n rows, and its arguments:
// one array per column.
func unnestInsert(t table, n int, row func(int) []any) (string, []any) {
	arrays := make([]any, len(t.cols))
	for j, typ := range t.types {
		switch typ {
		case "bigint":
			arrays[j] = make([]int64, 0, n)
		case "int":
			arrays[j] = make([]int32, 0, n)
		case "timestamptz":
			arrays[j] = make([]*time.Time, 0, n)
		default:
			arrays[j] = make([]string, 0, n)
		}
	}
	for i := 0; i < n; i++ {
		for j, v := range row(i) {
			switch a := arrays[j].(type) {
			case []int64:
				arrays[j] = append(a, v.(int64))
			case []int32:
				arrays[j] = append(a, int32(v.(int))) //nolint:gosec // layer indexes and package counts are small
			case []*time.Time:
				if t, ok := v.(time.Time); ok {
					v = &t
				}
				arrays[j] = append(a, v.(*time.Time))
			case []string:
				arrays[j] = append(a, v.(string))
			}
		}
	}
	params := make([]string, len(t.cols))
	for j, typ := range t.types {
		params[j] = fmt.Sprintf("$%d::%s[]", j+1, typ)
	}
	q := `INSERT INTO ` + t.name + ` (` + strings.Join(t.cols, ", ") + `) SELECT * FROM unnest(` + strings.Join(params, ", ") + `)` + t.suffix //nolint:gosec // constants; values are parameters
	return q, arrays
}

var (
	imagesTable = table{name: "images", cols: []string{"ident", "digest", "reference", "created", "added", "distro", "packages", "index_digest"},
		types: []string{"text", "text", "text", "timestamptz", "timestamptz", "text", "int", "text"}, suffix: ` ON CONFLICT (ident) DO NOTHING`}
	layersTable = table{name: "image_layers", cols: []string{"image_id", "idx", "diff_id"}, types: []string{"bigint", "int", "text"}}
	linksTable  = table{name: "image_packages", cols: []string{"image_id", "component_id", "layer_index", "path"},
		types: []string{"bigint", "bigint", "int", "text"}}
	componentsTable = table{name: "components",
		cols:   []string{"ident", "ecosystem", "name", "version", "purl", "src_name", "src_version", "name_key", "src_key"},
		types:  []string{"text", "text", "text", "text", "text", "text", "text", "text", "text"},
		suffix: ` ON CONFLICT (ident) DO NOTHING`}
)

// addPackages links the new images to their components, creating the components
// none of the images had before, in one pass for the whole batch.
func (s *sqlStore) addPackages(ctx context.Context, tx *sql.Tx, conn *sql.Conn, imgs []*Image, ids []int64, added []bool) error {
	type link struct {
		image int64
		ident string
		p     *Package
	}
	var links []link
	want := map[string]*Package{}
	for i, img := range imgs {
		if !added[i] {
			continue
		}
		for k := range img.Packages {
			p := &img.Packages[k]
			id := componentIdent(p)
			want[id] = p
			links = append(links, link{ids[i], id, p})
		}
	}
	if len(links) == 0 {
		return nil
	}
	comp, err := s.componentIDs(ctx, tx, want)
	if err != nil {
		return err
	}
	if s.d.dollar {
		return copyRows(ctx, conn, linksTable, len(links), func(i int) []any {
			return []any{links[i].image, comp[links[i].ident], int32(links[i].p.LayerIndex), links[i].p.Path} //nolint:gosec // layer indexes are small
		})
	}
	return s.insertRows(ctx, tx, linksTable, len(links), func(i int) []any {
		return []any{links[i].image, comp[links[i].ident], links[i].p.LayerIndex, links[i].p.Path}
	})
}

// copyRows sends n rows with PostgreSQL's COPY, in the transaction open on conn: the
// rows stream in the binary format and the server writes them in batches, without
// planning or executing a statement per row set.
func copyRows(ctx context.Context, conn *sql.Conn, t table, n int, row func(int) []any) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("inventory: COPY needs a pgx connection, got %T", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return row(i), nil
		}))
		return err
	})
}

// componentIDs finds or creates the components, by ident.
func (s *sqlStore) componentIDs(ctx context.Context, tx *sql.Tx, want map[string]*Package) (map[string]int64, error) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable insert order keeps concurrent writers from deadlocking
	ids := map[string]int64{}
	if err := s.selectComponents(ctx, tx, keys, ids); err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			missing = append(missing, k)
		}
	}
	if err := s.insertComponents(ctx, tx, want, missing, ids); err != nil {
		return nil, fmt.Errorf("recording packages: %w", err)
	}
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			return nil, fmt.Errorf("recording packages: component %s was not stored", k)
		}
	}
	return ids, nil
}

// insertComponents creates the missing components and finds their ids. PostgreSQL
// returns the ids of the rows it inserted, so only the components a concurrent writer
// inserted first are looked up again.
func (s *sqlStore) insertComponents(ctx context.Context, tx *sql.Tx, want map[string]*Package, missing []string, ids map[string]int64) error {
	if len(missing) == 0 {
		return nil
	}
	row := func(i int) []any {
		p := want[missing[i]]
		return []any{missing[i], p.Ecosystem, p.Name, p.Version, p.PURL, p.SourceName, p.SourceVersion, NameKey(p.Name), sourceKey(p)}
	}
	if !s.d.dollar {
		if err := s.insertRows(ctx, tx, componentsTable, len(missing), row); err != nil {
			return err
		}
		return s.selectComponents(ctx, tx, missing, ids)
	}
	q, args := unnestInsert(componentsTable, len(missing), row)
	if err := scanIDs(ctx, tx, q+` RETURNING id, ident`, args, ids); err != nil {
		return err
	}
	var raced []string
	for _, k := range missing {
		if _, ok := ids[k]; !ok {
			raced = append(raced, k)
		}
	}
	if len(raced) == 0 {
		return nil
	}
	return s.selectComponents(ctx, tx, raced, ids)
}

// scanIDs runs a query of (id, ident) rows into ids.
func scanIDs(ctx context.Context, tx *sql.Tx, q string, args []any, into map[string]int64) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var k string
		if err := rows.Scan(&id, &k); err != nil {
			_ = rows.Close()
			return err
		}
		into[k] = id
	}
	return errors.Join(rows.Err(), rows.Close())
}

func (s *sqlStore) selectComponents(ctx context.Context, tx *sql.Tx, keys []string, into map[string]int64) error {
	per := min(s.d.maxParams, 500)
	if s.d.dollar {
		per = max(len(keys), 1) // one array parameter
	}
	for start := 0; start < len(keys); start += per {
		chunk := keys[start:min(start+per, len(keys))]
		q := `SELECT id, ident FROM components WHERE ident IN ` + placeholders(1, len(chunk)) //nolint:gosec // placeholders only
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		if s.d.dollar {
			q, args = `SELECT id, ident FROM components WHERE ident = ANY($1::text[])`, []any{chunk}
		}
		if err := scanIDs(ctx, tx, q, args, into); err != nil {
			return err
		}
	}
	return nil
}

// componentIdent hashes every field that makes a component distinct.
func componentIdent(p *Package) string {
	h := sha256.Sum256([]byte(strings.Join([]string{p.Ecosystem, p.Name, p.Version, p.PURL, p.SourceName, p.SourceVersion}, "\x00")))
	return hex.EncodeToString(h[:16])
}

var nameSeparators = regexp.MustCompile(`[-_.]+`)

// NameKey folds a package name for lookups: the last segment of a path-like name (a Go
// module, an npm scope, a Maven group:artifact), lower case, with runs of '-', '_' and
// '.' as one '-' (PyPI's rule). Different packages can share a key; exact matching
// happens after the lookup.
func NameKey(name string) string {
	if i := strings.LastIndexAny(name, "/:"); i >= 0 && i < len(name)-1 {
		name = name[i+1:]
	}
	return nameSeparators.ReplaceAllString(strings.ToLower(name), "-")
}

func sourceKey(p *Package) string {
	if p.SourceName == "" || p.SourceName == p.Name {
		return ""
	}
	return NameKey(p.SourceName)
}

func (s *sqlStore) RecordDeployment(ctx context.Context, d Deployment) error {
	return s.RecordDeployments(ctx, []Deployment{d})
}

// RecordDeployments upserts the places in one transaction, a statement per chunk of
// rows. A place only ever widens its first-seen to last-seen span: sightings can arrive
// out of order (webhook replicas, a write retried later). Its containers are those of
// the newest sighting that names any.
func (s *sqlStore) RecordDeployments(ctx context.Context, ds []Deployment) error {
	rows, err := mergeDeployments(ds)
	if err != nil || len(rows) == 0 {
		return err
	}
	const cols = 8
	per := min(s.d.maxParams/cols, 500)
	// one statement is a transaction of its own; more need one around them
	var exec interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	} = s.db
	var tx *sql.Tx
	if len(rows) > per {
		if tx, err = s.db.BeginTx(ctx, nil); err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		exec = tx
	}
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*cols)
		for _, d := range chunk {
			args = append(args, d.Digest, d.Cluster, d.Namespace, d.Workload, strings.Join(d.Containers, ","), d.Index, d.FirstSeen, d.LastSeen)
		}
		q := `INSERT INTO deployments (digest, cluster, namespace, workload, containers, via_index, first_seen, last_seen) VALUES ` + placeholders(len(chunk), cols) + `
			ON CONFLICT (digest, cluster, namespace, workload) DO UPDATE SET
			containers = CASE WHEN excluded.containers <> '' AND (deployments.containers = '' OR excluded.last_seen >= deployments.last_seen)
				THEN excluded.containers ELSE deployments.containers END,
			via_index = CASE WHEN excluded.via_index <> '' THEN excluded.via_index ELSE deployments.via_index END,
			first_seen = CASE WHEN excluded.first_seen < deployments.first_seen THEN excluded.first_seen ELSE deployments.first_seen END,
			last_seen = CASE WHEN excluded.last_seen > deployments.last_seen THEN excluded.last_seen ELSE deployments.last_seen END` //nolint:gosec // placeholders only
		if _, err := exec.ExecContext(ctx, s.d.bind(q), args...); err != nil {
			d := chunk[0]
			return fmt.Errorf("recording deployment of %s in %s/%s: %w", d.Digest, d.Namespace, d.Workload, err)
		}
	}
	if tx == nil {
		return nil
	}
	return tx.Commit()
}

// mergeDeployments checks the places, fills their times (now when unset), sorts their
// containers, and merges repeats of one place (an upsert may touch a row once per
// statement).
func mergeDeployments(ds []Deployment) ([]Deployment, error) {
	type key struct{ digest, cluster, namespace, workload string }
	at := map[key]int{}
	out := make([]Deployment, 0, len(ds))
	now := nowUTC()
	for _, d := range ds {
		if d.Digest == "" || d.Namespace == "" || d.Workload == "" {
			return nil, errors.New("inventory: a deployment needs a digest, a namespace and a workload")
		}
		containers, err := containerSet(d.Containers)
		if err != nil {
			return nil, fmt.Errorf("inventory: deployment of %s in %s/%s: %w", d.Digest, d.Namespace, d.Workload, err)
		}
		d.Containers = containers
		if d.LastSeen.IsZero() {
			d.LastSeen = now
		}
		if d.FirstSeen.IsZero() || d.FirstSeen.After(d.LastSeen) {
			d.FirstSeen = d.LastSeen
		}
		d.FirstSeen, d.LastSeen = d.FirstSeen.UTC(), d.LastSeen.UTC()
		k := key{d.Digest, d.Cluster, d.Namespace, d.Workload}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, d)
			continue
		}
		o := &out[i]
		if len(d.Containers) > 0 && (len(o.Containers) == 0 || !d.LastSeen.Before(o.LastSeen)) {
			o.Containers = d.Containers
		}
		if d.Index != "" {
			o.Index = d.Index
		}
		if d.FirstSeen.Before(o.FirstSeen) {
			o.FirstSeen = d.FirstSeen
		}
		if d.LastSeen.After(o.LastSeen) {
			o.LastSeen = d.LastSeen
		}
	}
	return out, nil
}

// containerSet sorts and deduplicates container names, which are stored joined by
// commas: a name cannot hold one (Kubernetes names them as DNS labels).
func containerSet(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, ",\x00") {
			return nil, fmt.Errorf("container name %q is empty or holds a comma", n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (s *sqlStore) Candidates(ctx context.Context, lookups []Lookup) ([]Candidate, error) {
	seen := map[int64]bool{}
	var out []Candidate
	for _, l := range lookups {
		key := NameKey(l.Name)
		q := `SELECT id, ecosystem, name, version, purl, src_name, src_version FROM components WHERE name_key = ? OR src_key = ?`
		args := []any{key, key}
		if l.Ecosystem != "" {
			q = `SELECT id, ecosystem, name, version, purl, src_name, src_version FROM components
				WHERE (name_key = ? AND ecosystem = ?) OR (src_key = ? AND ecosystem = ?)`
			args = []any{key, l.Ecosystem, key, l.Ecosystem}
		}
		rows, err := s.db.QueryContext(ctx, s.d.bind(q), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c Candidate
			if err := rows.Scan(&c.ID, &c.Ecosystem, &c.Name, &c.Version, &c.PURL, &c.SourceName, &c.SourceVersion); err != nil {
				_ = rows.Close()
				return nil, err
			}
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, c)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *sqlStore) Hits(ctx context.Context, cands []Candidate) ([]Hit, error) {
	byID := map[int64]Candidate{}
	ids := make([]any, 0, len(cands))
	for _, c := range cands {
		if _, ok := byID[c.ID]; !ok {
			byID[c.ID] = c
			ids = append(ids, c.ID)
		}
	}
	var out []Hit
	per := min(s.d.maxParams, 500)
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT i.id, i.digest, i.reference, i.index_digest, i.created, i.added, i.distro, i.packages,
				p.component_id, p.layer_index, p.path, COALESCE(l.diff_id, '')
			FROM image_packages p
			JOIN images i ON i.id = p.image_id
			LEFT JOIN image_layers l ON l.image_id = p.image_id AND l.idx = p.layer_index
			WHERE p.component_id IN `+placeholders(1, len(chunk))), chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var h Hit
			var cid int64
			var created sql.NullTime
			if err := rows.Scan(&h.Image.ID, &h.Image.Digest, &h.Image.Reference, &h.Image.Index, &created, &h.Image.Added, &h.Image.Distro, &h.Image.Packages,
				&cid, &h.Package.LayerIndex, &h.Package.Path, &h.Layer); err != nil {
				_ = rows.Close()
				return nil, err
			}
			h.Image.Created, h.Image.Added = created.Time.UTC(), h.Image.Added.UTC()
			if !created.Valid {
				h.Image.Created = time.Time{}
			}
			c := byID[cid]
			h.Candidate = c
			h.Package.Ecosystem, h.Package.Name, h.Package.Version, h.Package.PURL = c.Ecosystem, c.Name, c.Version, c.PURL
			h.Package.SourceName, h.Package.SourceVersion = c.SourceName, c.SourceVersion
			out = append(out, h)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	if err := s.attachDeployments(ctx, out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return lessHit(&out[i], &out[j]) })
	return out, nil
}

func lessHit(a, b *Hit) bool {
	ka := [...]string{a.Image.Reference, a.Image.Digest, a.Package.Ecosystem, a.Package.Name, a.Package.Version, a.Package.Path}
	kb := [...]string{b.Image.Reference, b.Image.Digest, b.Package.Ecosystem, b.Package.Name, b.Package.Version, b.Package.Path}
	for i := range ka {
		if ka[i] != kb[i] {
			return ka[i] < kb[i]
		}
	}
	return a.Package.LayerIndex < b.Package.LayerIndex
}

// attachDeployments fills each hit's image deployments.
func (s *sqlStore) attachDeployments(ctx context.Context, hits []Hit) error {
	var digests []string
	for i := range hits {
		for _, d := range []string{hits[i].Image.Digest, hits[i].Image.Index} {
			if d != "" {
				digests = append(digests, d)
			}
		}
	}
	deps, err := s.deployments(ctx, digests)
	if err != nil {
		return err
	}
	for i := range hits {
		hits[i].Image.Deployments = placesOf(deps, &hits[i].Image)
	}
	return nil
}

// placesOf returns where an image runs: the places recorded under its digest, and those
// recorded under the index it was added through that its own digest does not already
// have (a script that records the index's digest, or the webhook when the registry did
// not say which platform images the index holds).
func placesOf(deps map[string][]Deployment, im *Summary) []Deployment {
	if im.Digest == "" {
		return nil
	}
	own := deps[im.Digest]
	if im.Index == "" || len(deps[im.Index]) == 0 {
		return own
	}
	type at struct{ cluster, namespace, workload string }
	have := map[at]bool{}
	for _, d := range own {
		have[at{d.Cluster, d.Namespace, d.Workload}] = true
	}
	out := slices.Clone(own)
	for _, d := range deps[im.Index] {
		if d.Index == "" && !have[at{d.Cluster, d.Namespace, d.Workload}] {
			out = append(out, d)
		}
	}
	sortDeployments(out)
	return out
}

// deployments returns the deployments of the given digests (every digest when nil).
func (s *sqlStore) deployments(ctx context.Context, digests []string) (map[string][]Deployment, error) {
	out := map[string][]Deployment{}
	uniq := map[string]bool{}
	var args []any
	for _, d := range digests {
		if !uniq[d] {
			uniq[d] = true
			args = append(args, d)
		}
	}
	const cols = `SELECT digest, cluster, namespace, workload, containers, via_index, first_seen, last_seen FROM deployments`
	scan := func(q string, args []any) error {
		rows, err := s.db.QueryContext(ctx, s.d.bind(q), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanDeployment(rows)
			if err != nil {
				_ = rows.Close()
				return err
			}
			out[d.Digest] = append(out[d.Digest], d)
		}
		return errors.Join(rows.Err(), rows.Close())
	}
	if digests == nil {
		if err := scan(cols, nil); err != nil {
			return nil, err
		}
	}
	per := min(s.d.maxParams, 500)
	for start := 0; start < len(args); start += per {
		chunk := args[start:min(start+per, len(args))]
		if err := scan(cols+` WHERE digest IN `+placeholders(1, len(chunk)), chunk); err != nil {
			return nil, err
		}
	}
	for k := range out {
		sortDeployments(out[k])
	}
	return out, nil
}

// scanDeployment reads a row of deploymentColumns.
func scanDeployment(rows *sql.Rows) (Deployment, error) {
	var d Deployment
	var containers string
	if err := rows.Scan(&d.Digest, &d.Cluster, &d.Namespace, &d.Workload, &containers, &d.Index, &d.FirstSeen, &d.LastSeen); err != nil {
		return d, err
	}
	if containers != "" {
		d.Containers = strings.Split(containers, ",")
	}
	d.FirstSeen, d.LastSeen = d.FirstSeen.UTC(), d.LastSeen.UTC()
	return d, nil
}

// sortDeployments orders places by cluster, namespace, workload and digest.
func sortDeployments(ds []Deployment) {
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		return a.Cluster+"\x00"+a.Namespace+"\x00"+a.Workload+"\x00"+a.Digest < b.Cluster+"\x00"+b.Namespace+"\x00"+b.Workload+"\x00"+b.Digest
	})
}

func (s *sqlStore) Deployments(ctx context.Context) ([]Deployment, error) {
	byDigest, err := s.deployments(ctx, nil)
	if err != nil {
		return nil, err
	}
	return flatten(byDigest), nil
}

// flatten lists the places of every digest in Deployments' order.
func flatten(byDigest map[string][]Deployment) []Deployment {
	var out []Deployment
	for _, ds := range byDigest {
		out = append(out, ds...)
	}
	sortDeployments(out)
	return out
}

func (s *sqlStore) PruneDeployments(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.d.bind(`DELETE FROM deployments WHERE last_seen < ?`), before.UTC())
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (s *sqlStore) Images(ctx context.Context) ([]Summary, error) {
	imgs, _, err := s.ImagesAndPlaces(ctx)
	return imgs, err
}

func (s *sqlStore) ImagesAndPlaces(ctx context.Context) ([]Summary, []Deployment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, digest, reference, index_digest, created, added, distro, packages FROM images ORDER BY added DESC, reference, digest`)
	if err != nil {
		return nil, nil, err
	}
	var out []Summary
	for rows.Next() {
		var sm Summary
		var created sql.NullTime
		if err := rows.Scan(&sm.ID, &sm.Digest, &sm.Reference, &sm.Index, &created, &sm.Added, &sm.Distro, &sm.Packages); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		if created.Valid {
			sm.Created = created.Time.UTC()
		}
		sm.Added = sm.Added.UTC()
		out = append(out, sm)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, err
	}
	deps, err := s.deployments(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	for i := range out {
		out[i].Deployments = placesOf(deps, &out[i])
	}
	return out, flatten(deps), nil
}

func (s *sqlStore) Remove(ctx context.Context, ref string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, s.d.bind(`SELECT id FROM images WHERE digest = ? OR reference = ? OR ident = ?`), ref, ref, "ref:"+ref)
	if err != nil {
		return 0, err
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	in := placeholders(1, len(ids))
	for _, q := range []string{
		`DELETE FROM image_packages WHERE image_id IN ` + in,
		`DELETE FROM image_layers WHERE image_id IN ` + in,
		`DELETE FROM images WHERE id IN ` + in,
	} {
		if _, err := tx.ExecContext(ctx, s.d.bind(q), ids...); err != nil {
			return 0, err
		}
	}
	return len(ids), tx.Commit()
}
