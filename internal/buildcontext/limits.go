package buildcontext

// Default limits. They bound the work a hostile or merely huge context can cause; every
// limit charter applies to a build context is here or in Options.
const (
	// DefaultMaxFiles caps the entries Load examines (files, directories, links).
	DefaultMaxFiles = 1_000_000
	// DefaultMaxReadBytes caps the bytes read from one file for content scanning.
	DefaultMaxReadBytes = 1 << 20
	// DefaultMaxTotalReadBytes caps the bytes read from all files of one context.
	DefaultMaxTotalReadBytes = 256 << 20

	// maxIgnoreBytes caps a .dockerignore file; real ones are a few hundred bytes.
	maxIgnoreBytes = 1 << 20
	// binarySniffBytes is how much of a file is looked at for a NUL byte to call it binary.
	binarySniffBytes = 8 << 10
	// maxLinkHops bounds symlink resolution inside the context (Linux's MAXSYMLINKS).
	maxLinkHops = 40
)

// Options bound the preflight. The zero value means the defaults above.
type Options struct {
	// MaxFiles is the most entries Load examines before giving up with ErrTooManyFiles.
	MaxFiles int
	// MaxReadBytes is the most bytes read from one file for content scanning; the rest of
	// a larger file is not scanned (and a warning says so).
	MaxReadBytes int64
	// MaxTotalReadBytes is the most bytes read for content scanning in one Check; files
	// past the budget are classified by name only (and a warning says so).
	MaxTotalReadBytes int64
}

func (o Options) withDefaults() Options {
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxReadBytes <= 0 {
		o.MaxReadBytes = DefaultMaxReadBytes
	}
	if o.MaxTotalReadBytes <= 0 {
		o.MaxTotalReadBytes = DefaultMaxTotalReadBytes
	}
	return o
}
