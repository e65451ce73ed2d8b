package image

// Limits bound the work a hostile or merely huge image can cause. Every limit the package
// applies is a field here; the zero value of a field means its default.
type Limits struct {
	// MaxImageBytes caps the decompressed bytes of all layers read in one Walk.
	MaxImageBytes int64
	// MaxLayerBytes caps the decompressed bytes of one layer.
	MaxLayerBytes int64
	// MaxRatio caps decompressed/compressed bytes of a layer once it has produced more
	// than RatioFloor bytes: gzip tops out near 1000:1, real layers sit below 20:1.
	MaxRatio int64
	// RatioFloor is the decompressed size below which MaxRatio is not enforced, so small
	// layers of zeros or empty files do not trip it.
	RatioFloor int64
	// MaxFiles caps the entries of one layer (each costs memory in the index).
	MaxFiles int
	// MaxPathLen caps an entry's path and link target (Linux's PATH_MAX is 4096).
	MaxPathLen int
	// MaxContent caps the bytes of one file handed to analyzers, whatever they ask for.
	MaxContent int64
	// MaxConfigBytes caps manifests, indexes and image configs.
	MaxConfigBytes int64
}

// Default limits; see the fields of Limits.
const (
	DefaultMaxImageBytes  = 64 << 30
	DefaultMaxLayerBytes  = 32 << 30
	DefaultMaxRatio       = 250
	DefaultRatioFloor     = 256 << 20
	DefaultMaxFiles       = 2_000_000
	DefaultMaxPathLen     = 4096
	DefaultMaxContent     = 16 << 20
	DefaultMaxConfigBytes = 8 << 20
)

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxImageBytes, DefaultMaxImageBytes)
	def(&l.MaxLayerBytes, DefaultMaxLayerBytes)
	def(&l.MaxRatio, DefaultMaxRatio)
	def(&l.RatioFloor, DefaultRatioFloor)
	def(&l.MaxContent, DefaultMaxContent)
	def(&l.MaxConfigBytes, DefaultMaxConfigBytes)
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = DefaultMaxPathLen
	}
	return l
}

// maxZstdWindow bounds the memory a zstd layer can make the decoder allocate; the
// encoders that build images use windows of a few MiB.
const maxZstdWindow = 32 << 20

// progressStep is how many blob bytes pass between two progress reports of a layer.
const progressStep = 1 << 20
