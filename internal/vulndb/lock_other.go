//go:build !unix

package vulndb

import "context"

// lockDir is a no-op where flock(2) is missing: concurrent updates still never break
// the database (each renames a verified file into place), the last one wins.
func lockDir(context.Context, string) (func(), error) { return func() {}, nil }
