package monitor

// The BPF objects (x86-64 and arm64) are generated and committed, so `go build` needs no
// clang. To rebuild them after changing bpf/monitor.c (needs clang and libbpf-dev):
//
//	go generate ./internal/runtime/monitor/

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target amd64,arm64 -cc clang -cflags "-O2 -g -Wall -Werror" -no-global-types monitorBPF bpf/monitor.c -- -I/usr/include/x86_64-linux-gnu
