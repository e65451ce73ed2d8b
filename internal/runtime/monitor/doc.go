// Package monitor is charter's runtime monitor: it watches process executions, outbound
// connections and sensitive file opens with eBPF, maps each to its container and image,
// and raises the RT rules.
package monitor
