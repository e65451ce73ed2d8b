package inspect

import (
	"os"
	"path/filepath"
	"testing"
)

func seed(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseDocker: a daemon's answer (or a document handed over) never makes the parser
// panic, and what it accepts names a container and a sane capability set.
func FuzzParseDocker(f *testing.F) {
	seed(f, "docker-good.json", "docker-bad.json")
	f.Add([]byte(`{"Id":"x","HostConfig":{"SecurityOpt":["seccomp:","no-new-privileges","="],"PidsLimit":-1,"CpuQuota":5,"CpuPeriod":-1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dc, err := ParseDocker(data)
		if err != nil {
			return
		}
		s := dc.Settings
		if s.Location.Resource == "container/" || s.Seccomp == "" {
			t.Fatalf("%+v", s)
		}
		for _, c := range s.Caps {
			if c == "" {
				t.Fatalf("empty capability in %v", s.Caps)
			}
		}
	})
}

// FuzzParseKubernetes: any manifest text either fails with an error naming the file or
// gives containers located in it.
func FuzzParseKubernetes(f *testing.F) {
	seed(f, "risky.yaml")
	f.Add([]byte("kind: List\nitems: [{kind: Pod, spec: {containers: [{name: c}]}}]\n"))
	f.Add([]byte("kind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, resources: {limits: {cpu: 1e3}}}]}}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := ParseKubernetes("m.yaml", data)
		if err != nil {
			return
		}
		for _, s := range ss {
			if s.Location.Path != "m.yaml" || s.Location.Line < 1 || s.Pids != -1 {
				t.Fatalf("%+v", s.Location)
			}
		}
	})
}
