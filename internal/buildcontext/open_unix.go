//go:build unix

package buildcontext

import "syscall"

// openFlags make opening a file for scanning safe against a swap after the walk: a FIFO
// put in its place cannot block the open (O_NONBLOCK); the descriptor is then checked
// to be a regular file before anything is read.
const openFlags = syscall.O_NONBLOCK
