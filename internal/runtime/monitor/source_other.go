//go:build !amd64 && !arm64

package monitor

import "errors"

// The BPF objects are built for x86-64 and arm64 (system call numbers and registers are
// the architecture's); elsewhere the monitor falls back to the proc connector.
func openBPF(*Egress) (source, error) {
	return nil, errors.New("the eBPF monitor is built for x86-64 and arm64 only")
}
