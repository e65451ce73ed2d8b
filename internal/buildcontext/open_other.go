//go:build !unix

package buildcontext

// openFlags has no portable equivalent of O_NONBLOCK here; the descriptor is still
// checked to be a regular file before anything is read.
const openFlags = 0
