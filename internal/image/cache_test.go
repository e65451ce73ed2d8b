package image

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestLayerCache(t *testing.T) {
	dir := writeLayout(t, leakyImage(t), "v1")
	o := testOptions(t)
	first := mustWalk(t, mustOpen(t, "oci-dir:"+dir, o), secretAnalyzer())

	// Same image, fresh Open: every layer from the cache, same answers.
	var reports []Progress
	o.Progress = func(p Progress) { reports = append(reports, p) }
	warm := mustWalk(t, mustOpen(t, "oci-dir:"+dir, o), secretAnalyzer())
	for i, l := range warm.Layers {
		if !l.Cached {
			t.Errorf("layer %d not served from the cache", i)
		}
		f, w := first.Layers[i], warm.Layers[i]
		if !reflect.DeepEqual(f.Files, w.Files) || !reflect.DeepEqual(f.Records, w.Records) ||
			!reflect.DeepEqual(f.Whiteouts, w.Whiteouts) || !reflect.DeepEqual(f.Opaque, w.Opaque) {
			t.Errorf("layer %d differs between fresh and cached walks", i)
		}
	}
	if !reflect.DeepEqual(finalPaths(first), finalPaths(warm)) || len(first.Hidden) != len(warm.Hidden) {
		t.Error("squashed view differs between fresh and cached walks")
	}
	if len(reports) != 3 || !reports[0].Cached || !reports[0].Finished {
		t.Errorf("progress for cached layers: %+v", reports)
	}

	// A new analyzer version misses the cache and reads the layers again.
	v2 := secretAnalyzer()
	v2.Name = "test-secret/2"
	if l := mustWalk(t, mustOpen(t, "oci-dir:"+dir, o), v2).Layers[0]; l.Cached {
		t.Error("a new analyzer ID was served from the cache")
	}

	// NoCache reads everything and writes nothing.
	o2 := testOptions(t)
	o2.NoCache = true
	if l := mustWalk(t, mustOpen(t, "oci-dir:"+dir, o2)).Layers[0]; l.Cached {
		t.Error("NoCache served a layer from the cache")
	}
	if ents, _ := os.ReadDir(o2.CacheDir); len(ents) != 0 {
		t.Errorf("NoCache wrote %v", ents)
	}

	// A damaged entry is a miss, not an error, and is rewritten.
	idx, err := filepath.Glob(filepath.Join(o.CacheDir, "layers", cacheFormat, "sha256", "*", "index.gob"))
	if err != nil || len(idx) != 3 {
		t.Fatalf("cache entries %v %v", idx, err)
	}
	if err := os.WriteFile(idx[0], []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.Progress = nil
	x := mustWalk(t, mustOpen(t, "oci-dir:"+dir, o), secretAnalyzer())
	cached := 0
	for _, l := range x.Layers {
		if l.Cached {
			cached++
		}
	}
	if cached != 2 {
		t.Errorf("after damaging one entry, %d layers cached, want 2", cached)
	}
}

func TestCacheDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	o := Options{Getenv: func(k string) string {
		if k == "CHARTER_CACHE_DIR" {
			return dir
		}
		return ""
	}}
	mustWalk(t, mustOpen(t, "oci-dir:"+writeLayout(t, leakyImage(t), "v1"), o))
	if _, err := os.Stat(filepath.Join(dir, "layers", cacheFormat, "sha256")); err != nil {
		t.Errorf("cache not under $CHARTER_CACHE_DIR: %v", err)
	}
}

func TestProgressAndCancel(t *testing.T) {
	big := tarOf(t, ent{name: "big", body: strings.Repeat("x", 5<<20)})
	o := testOptions(t)
	o.NoCache = true
	var mu sync.Mutex
	done := map[int]int64{}
	o.Progress = func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Done < done[p.Layer] {
			t.Errorf("layer %d progress went backwards", p.Layer)
		}
		done[p.Layer] = p.Done
		if p.Finished && p.Done != p.Total {
			t.Errorf("layer %d finished at %d of %d", p.Layer, p.Done, p.Total)
		}
	}
	im := openLayers(t, o, plainLayer(big), gzLayer(t, big))
	mustWalk(t, im)
	if done[0] != int64(len(big)) || done[1] == 0 {
		t.Errorf("progress %v", done)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := im.Walk(ctx); err == nil {
		t.Error("Walk ignored a cancelled context")
	}
}

func TestDirSource(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(t.TempDir(), "outside-secret")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(secret, []byte("TOKEN=outside"), 0o600))
	must(os.MkdirAll(filepath.Join(root, "app"), 0o755))
	must(os.WriteFile(filepath.Join(root, "app", ".env"), []byte("TOKEN=inside"), 0o600))
	must(os.Symlink(secret, filepath.Join(root, "app", "leak")))
	must(os.Symlink("../../../../..", filepath.Join(root, "up")))

	x := mustWalk(t, mustOpen(t, "dir:"+root, testOptions(t)), secretAnalyzer())
	if recs := x.Records(); len(recs) != 1 || recs[0].Path != "/app/.env" {
		t.Errorf("records %+v: the symlink out of the tree must not be followed", recs)
	}
	if f, ok := x.Lookup("/app/leak"); !ok || f.Link != secret {
		t.Errorf("symlink entry: %+v", f)
	}
	if len(x.Layers[0].Anomalies) != 1 || x.Layers[0].Anomalies[0].Kind != AnomalyLinkEscape {
		t.Errorf("anomalies %+v", x.Layers[0].Anomalies)
	}
}
