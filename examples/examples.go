// Package examples bundles charter's example projects so that `charter demo` runs offline
// from a single binary: leaky (every mistake charter exists to catch) and hardened (the
// same kind of service done right).
package examples

import "embed"

// FS holds the example directories, dot files included.
//
//go:embed all:leaky all:hardened
var FS embed.FS
