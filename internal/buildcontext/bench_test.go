package buildcontext

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// tenThousandFiles builds a context of 10,000 small files in 100 directories (plus a
// .git directory and a node_modules tree that the .dockerignore excludes) and a
// multi-stage Dockerfile copying it.
func tenThousandFiles(b *testing.B) (string, string) {
	root := b.TempDir()
	for d := range 100 {
		dir := filepath.Join(root, "src", fmt.Sprintf("pkg%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			body := fmt.Sprintf("package pkg%03d\n\n// File %d of a generated tree.\nfunc F%d() int { return %d }\n", d, f, f, f)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.go", f)), []byte(body), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 500 {
		writeTree(b, root, map[string]string{fmt.Sprintf("node_modules/m%d/index.js", i): "module.exports = 1\n"})
	}
	writeTree(b, root, map[string]string{
		".dockerignore": "node_modules\n**/*.log\n",
		"config/.env":   "DB_PASSWORD=x\n",
		".git/HEAD":     "ref: refs/heads/main\n",
	})
	df := "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app ./src/...\n\nFROM scratch\nCOPY --from=build /src/config /etc/app\nCOPY --from=build /app /app\n"
	writeTree(b, root, map[string]string{"Dockerfile": df})
	return root, df
}

// BenchmarkLoad10k measures the walk: what `docker build` would send.
func BenchmarkLoad10k(b *testing.B) {
	root, _ := tenThousandFiles(b)
	b.ResetTimer()
	for b.Loop() {
		c, err := Load(context.Background(), root, filepath.Join(root, "Dockerfile"), Options{})
		if err != nil || len(c.Files) < 10_000 {
			b.Fatal(err, len(c.Files))
		}
	}
}

// BenchmarkCheck10k measures the whole preflight: walk, COPY resolution through the
// stages, name classification and content scanning of every file.
func BenchmarkCheck10k(b *testing.B) {
	root, df := tenThousandFiles(b)
	file := parseDockerfile(b, df)
	b.ResetTimer()
	for b.Loop() {
		c, err := Load(context.Background(), root, filepath.Join(root, "Dockerfile"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		fs, _ := Check(context.Background(), c, file, nil)
		if len(fs) == 0 {
			b.Fatal("no findings")
		}
	}
}
