// Package examples bundles charter's example projects so that `charter demo` runs offline
// from a single binary: leaky (every mistake charter exists to catch), hardened (the
// same kind of service done right), poster (an automation job with its whole contract)
// and osv (a small OSV snapshot for the vulnerability scan).
package examples

import "embed"

// FS holds the example directories, dot files included.
//
//go:embed all:leaky all:hardened all:poster osv
var FS embed.FS
