package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are the schema's versions, in order; migration i+1 brings a database from
// version i to i+1. They are applied in one transaction on Open, and never edited once
// released: a change is a new migration. {{ID}} and {{TS}} are the dialect's identity
// column and timestamp types; a statement that starts with {{POSTGRES}} runs on
// PostgreSQL only.
var migrations = [][]string{
	{ // 1: images, their layers, components, links and deployments
		`CREATE TABLE images (
			id {{ID}},
			ident TEXT NOT NULL UNIQUE,
			digest TEXT NOT NULL,
			reference TEXT NOT NULL,
			created {{TS}},
			added {{TS}} NOT NULL,
			distro TEXT NOT NULL,
			packages INTEGER NOT NULL
		)`,
		`CREATE INDEX images_digest ON images (digest)`,
		`CREATE INDEX images_reference ON images (reference)`,
		`CREATE TABLE image_layers (
			image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
			idx INTEGER NOT NULL,
			diff_id TEXT NOT NULL,
			PRIMARY KEY (image_id, idx)
		)`,
		// components are the distinct packages; ident is a hash of every field.
		// name_key and src_key are the folded names (NameKey) lookups use.
		`CREATE TABLE components (
			id {{ID}},
			ident TEXT NOT NULL UNIQUE,
			ecosystem TEXT NOT NULL,
			name TEXT NOT NULL,
			version TEXT NOT NULL,
			purl TEXT NOT NULL,
			src_name TEXT NOT NULL,
			src_version TEXT NOT NULL,
			name_key TEXT NOT NULL,
			src_key TEXT NOT NULL
		)`,
		`CREATE INDEX components_name_key ON components (name_key, ecosystem)`,
		`CREATE INDEX components_src_key ON components (src_key, ecosystem)`,
		// component_id has no foreign key: components are never deleted, and checking
		// (PostgreSQL: locking) the component row of every link doubled the cost of adds.
		`CREATE TABLE image_packages (
			image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
			component_id BIGINT NOT NULL,
			layer_index INTEGER NOT NULL,
			path TEXT NOT NULL
		)`,
		`CREATE INDEX image_packages_component ON image_packages (component_id)`,
		`CREATE INDEX image_packages_image ON image_packages (image_id)`,
		`CREATE TABLE deployments (
			digest TEXT NOT NULL,
			cluster TEXT NOT NULL,
			namespace TEXT NOT NULL,
			workload TEXT NOT NULL,
			first_seen {{TS}} NOT NULL,
			last_seen {{TS}} NOT NULL,
			PRIMARY KEY (digest, cluster, namespace, workload)
		)`,
	},
	{ // 2: PostgreSQL checks no foreign key on an image's layers and links. It ran a
		// trigger (a query locking the image row) for each of the 400 links of an image,
		// which made inserting links half as slow again (about a tenth of the server's
		// time in a bulk add). The rows an add links belong to images its own
		// transaction created, and Remove deletes links with their image. SQLite already
		// adds with foreign keys off (see beginAdd) and keeps them.
		`{{POSTGRES}}ALTER TABLE image_packages DROP CONSTRAINT IF EXISTS image_packages_image_id_fkey`,
		`{{POSTGRES}}ALTER TABLE image_layers DROP CONSTRAINT IF EXISTS image_layers_image_id_fkey`,
		// The components' indexed keys compare byte by byte: they are only ever compared
		// for equality, and under the database's collation (en_US.UTF-8, C.UTF-8…) each
		// B-tree comparison goes through the locale. Inserting 20,000 hex keys into an
		// index of 200,000 took about 1.7 times as long under C.UTF-8 or ICU en-US as
		// under "C" (PostgreSQL 15, a loaded machine); in a whole bulk add the difference
		// was lost in the noise on a C.UTF-8 server. SQLite compares bytes already.
		`{{POSTGRES}}ALTER TABLE components ALTER COLUMN ident TYPE TEXT COLLATE "C",
			ALTER COLUMN ecosystem TYPE TEXT COLLATE "C", ALTER COLUMN name_key TYPE TEXT COLLATE "C",
			ALTER COLUMN src_key TYPE TEXT COLLATE "C"`,
	},
	{ // 3: a place's containers (comma-separated, as of its newest sighting that named
		// them), the image index a platform image's place was recorded through (what
		// tells an index that runs and is covered by its platform images from one that is
		// not in the inventory at all), and the index an image was added through.
		`ALTER TABLE deployments ADD COLUMN containers TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE deployments ADD COLUMN via_index TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX deployments_last_seen ON deployments (last_seen)`,
		// the image index an image was read through, so that a place recorded under the
		// index's digest (what a pod spec pins) finds the platform image
		`ALTER TABLE images ADD COLUMN index_digest TEXT NOT NULL DEFAULT ''`,
	},
}

// SchemaVersion is the schema version this charter writes.
var SchemaVersion = len(migrations)

// migrate brings the database to SchemaVersion in one transaction, or refuses a
// database a newer charter migrated (writing to it could corrupt what it added).
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if d.lockMigrations != "" {
		if _, err := tx.ExecContext(ctx, d.lockMigrations); err != nil {
			return fmt.Errorf("locking the schema: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.ddl(`CREATE TABLE IF NOT EXISTS charter_schema (version INTEGER PRIMARY KEY, applied {{TS}} NOT NULL)`)); err != nil {
		return fmt.Errorf("schema table: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM charter_schema`).Scan(&cur); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if cur > SchemaVersion {
		return fmt.Errorf("%w: the database is at version %d, this charter writes version %d: upgrade charter", ErrSchemaTooNew, cur, SchemaVersion)
	}
	for v := cur; v < SchemaVersion; v++ {
		for _, stmt := range migrations[v] {
			stmt, ok := d.only(stmt)
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, d.ddl(stmt)); err != nil {
				return fmt.Errorf("schema migration %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.bind(`INSERT INTO charter_schema (version, applied) VALUES (?, ?)`), v+1, nowUTC()); err != nil {
			return fmt.Errorf("schema migration %d: %w", v+1, err)
		}
	}
	return tx.Commit()
}

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// dollar: placeholders are $1, $2… instead of ?.
	dollar bool
	id, ts string
	// lockMigrations serialises concurrent migrations (PostgreSQL: an advisory lock
	// held until the transaction ends; SQLite's BEGIN IMMEDIATE already does).
	lockMigrations string
	// maxParams bounds the placeholders of one statement.
	maxParams int
}

// only strips a statement's dialect marker, and reports whether it runs on d.
func (d *dialect) only(stmt string) (string, bool) {
	if rest, ok := strings.CutPrefix(stmt, "{{POSTGRES}}"); ok {
		return rest, d.dollar
	}
	return stmt, true
}

func (d *dialect) ddl(s string) string {
	return strings.NewReplacer("{{ID}}", d.id, "{{TS}}", d.ts).Replace(s)
}

// bind rewrites ? placeholders for the dialect. Statements here never hold a literal ?.
func (d *dialect) bind(s string) string {
	if !d.dollar {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// placeholders returns "(?, ?, …), (…)" for rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
