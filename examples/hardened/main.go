//go:build ignore

// Command hardened is a tiny HTTP service used by charter's demo.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
)

func main() {
	health := flag.Bool("healthcheck", false, "probe the local server and exit")
	flag.Parse()
	if *health {
		resp, err := http.Get("http://127.0.0.1:8080/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		return
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	log.Fatal(http.ListenAndServe(":8080", nil))
}
