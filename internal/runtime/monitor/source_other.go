//go:build !amd64

package monitor

import "errors"

// The BPF object is built for x86-64 only (its system call numbers are x86-64's).
func openBPF() (source, error) {
	return nil, errors.New("the eBPF monitor is built for x86-64 only")
}
