package vulndb

// Limits bound what an import reads from a source, so that a hostile or broken source
// (a zip bomb, a multi-gigabyte record, a million-entry versions list) costs a counted
// warning or a failed update, never memory exhaustion or a broken database. All limits
// live here.
type Limits struct {
	// MaxRecordBytes is the largest OSV JSON document read; larger ones are skipped.
	MaxRecordBytes int64
	// MaxDownloadBytes is the largest archive downloaded from a URL.
	MaxDownloadBytes int64
	// MaxArchiveBytes is the most uncompressed data read from one archive.
	MaxArchiveBytes int64
	// MaxRatio is the largest uncompressed/compressed ratio of a zip entry over 1 MiB:
	// above it the archive is treated as a zip bomb and the update fails.
	MaxRatio int64
	// MaxFiles is the most records read from one source.
	MaxFiles int
	// MaxCSVBytes bounds a modified_id.csv.
	MaxCSVBytes int64
	// MaxIncremental is the most changed records fetched one by one; more, and the
	// whole archive is imported instead.
	MaxIncremental int
	// MaxAffected, MaxEvents, MaxVersions and MaxAliases bound one record's lists.
	MaxAffected, MaxEvents, MaxVersions, MaxAliases int
}

// DefaultLimits fit every public OSV ecosystem archive with room to spare.
func DefaultLimits() Limits {
	return Limits{
		MaxRecordBytes:   8 << 20,
		MaxDownloadBytes: 2 << 30,
		MaxArchiveBytes:  8 << 30,
		MaxRatio:         200,
		MaxFiles:         2_000_000,
		MaxCSVBytes:      256 << 20,
		MaxIncremental:   5000,
		MaxAffected:      20_000,
		MaxEvents:        10_000,
		MaxVersions:      100_000,
		MaxAliases:       1000,
	}
}

const (
	maxIDLen      = 128
	maxNameLen    = 512
	maxVersionLen = 256 // no scheme reads a longer version
	maxSummaryLen = 512
	maxRefs       = 16
	maxURLLen     = 2048
	maxExamples   = 20 // warnings kept verbatim; the rest are only counted
	maxUnknownEco = 64 // distinct unknown ecosystem names counted
	batchRecords  = 2000
)
