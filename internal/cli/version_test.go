package cli

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFallsBackToGoBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8",
		Main: debug.Module{Version: "v0.0.0-20261126034152-832274b0afe8+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "832274b0afe860bfc31b760436507611a7e67670"},
			{Key: "vcs.time", Value: "2026-11-26T03:41:52Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	unstamped := buildInfo{Version: "dev", Go: "go0", Platform: "linux/amd64"}
	stamped := buildInfo{Version: "v0.3.0", Commit: "1111111111111111111111111111111111111111",
		Date: "2026-11-20T10:00:00Z", Go: "go0", Platform: "linux/amd64"}
	for _, tc := range []struct {
		name string
		in   buildInfo
		bi   *debug.BuildInfo
		want buildInfo
	}{
		{"go build in a checkout", unstamped, vcs, buildInfo{Version: "v0.0.0-20261126034152-832274b0afe8+dirty",
			Commit: "832274b0afe860bfc31b760436507611a7e67670", Date: "2026-11-26T03:41:52Z",
			Go: "go1.26.8", Platform: "linux/amd64", Modified: true}},
		// The ldflags stamp wins, and a stamped commit never mixes with another date.
		{"release build", stamped, vcs, buildInfo{Version: "v0.3.0", Commit: stamped.Commit, Date: stamped.Date,
			Go: "go1.26.8", Platform: "linux/amd64"}},
		// -buildvcs=false (scripts/test.sh), go run: no VCS settings, version "(devel)".
		{"no VCS", unstamped, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			buildInfo{Version: "dev", Go: "go1.26.8", Platform: "linux/amd64"}},
		{"go install module@version", unstamped, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}},
			buildInfo{Version: "v0.3.0", Go: "go1.26.8", Platform: "linux/amd64"}},
	} {
		if got := fromGoBuildInfo(tc.in, tc.bi); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestVersionText(t *testing.T) {
	for _, tc := range []struct {
		in   buildInfo
		want string
	}{
		{buildInfo{Version: "dev", Commit: unknown, Date: unknown, Go: "go1.26.8", Platform: "linux/amd64"},
			"charter dev (go1.26.8, linux/amd64)\n"},
		{buildInfo{Version: "v0.3.0", Commit: "832274b0afe860bfc31b760436507611a7e67670", Date: "2026-11-26T03:41:52Z",
			Go: "go1.26.8", Platform: "linux/arm64"},
			"charter v0.3.0 (commit 832274b0afe8, 2026-11-26T03:41:52Z, go1.26.8, linux/arm64)\n"},
		{buildInfo{Version: "v0.0.0-x+dirty", Commit: "832274b0afe8", Date: "2026-11-26T03:41:52Z", Modified: true,
			Go: "go1.26.8", Platform: "linux/amd64"},
			"charter v0.0.0-x+dirty (commit 832274b0afe8, modified, 2026-11-26T03:41:52Z, go1.26.8, linux/amd64)\n"},
	} {
		if got := tc.in.text(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := run(t, "", "", "version", "-o", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"version", "commit", "date", "go", "platform"} {
		if s, _ := doc[k].(string); s == "" {
			t.Errorf("%s missing or empty in %s", k, out)
		}
	}
	if code, _, errOut := run(t, "", "", "version", "--format", "yaml"); code != ExitError || !strings.Contains(errOut, "yaml") {
		t.Errorf("unknown format: code %d, stderr %q", code, errOut)
	}
}
