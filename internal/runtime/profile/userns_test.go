package profile

import (
	"bytes"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseIDMap(t *testing.T) {
	for in, want := range map[string]string{
		"100000":            "100000:65536",
		"100000:65536":      "100000:65536",
		"231072:1":          "231072:1",
		"4294901759:65536":  "4294901759:65536",
		"":                  "error",
		"0":                 "error", // the host's root
		"0:65536":           "error",
		"100000:0":          "error",
		"100000:x":          "error",
		"-1":                "error",
		"4294967295:2":      "error", // past the largest ID
		"4294901760:65536":  "error",
		"100000:65536:9":    "error",
		"99999999999:65536": "error",
	} {
		m, err := ParseIDMap(in)
		got := "error"
		if err == nil {
			got = m.String()
		}
		if got != want {
			t.Errorf("ParseIDMap(%q) = %s (%v), want %s", in, got, err, want)
		}
	}
}

func TestUserNamespace(t *testing.T) {
	m := &IDMap{HostID: 100000, Size: 65536}
	p, err := Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64", UserNS: m})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := p.OCI()
	if err != nil {
		t.Fatal(err)
	}
	var userns int
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			userns++
		}
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	if userns != 1 || len(spec.Linux.UIDMappings) != 1 || spec.Linux.UIDMappings[0] != want[0] ||
		len(spec.Linux.GIDMappings) != 1 || spec.Linux.GIDMappings[0] != want[0] {
		t.Errorf("user namespaces %d, uid map %+v, gid map %+v", userns, spec.Linux.UIDMappings, spec.Linux.GIDMappings)
	}
	if spec.Process.User.UID != 10001 {
		t.Errorf("the process's uid inside is %d, want the image's 10001", spec.Process.User.UID)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "host IDs 100000-165535") {
		t.Errorf("no note on the mapping: %q", p.Notes)
	}

	// without it, no user namespace and no mapping
	p, err = Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := p.OCIJSON(); bytes.Contains(b, []byte(`"type": "user"`)) || bytes.Contains(b, []byte("uidMappings")) {
		t.Error("a user namespace without UserNS")
	}

	// the process's IDs must be inside the mapping (runc could not set them otherwise)
	_, err = Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64", UserNS: &IDMap{HostID: 100000, Size: 10000}})
	if err == nil || !strings.Contains(err.Error(), "the process's user is 10001") {
		t.Errorf("a user outside the mapping: %v", err)
	}
	_, err = Build(posterSource(t), nil, Options{Arch: "amd64", UserNS: &IDMap{HostID: 0, Size: 65536}})
	if err == nil || !strings.Contains(err.Error(), "host ID 0") {
		t.Errorf("a mapping onto the host's root: %v", err)
	}
}

func TestPodUserNamespace(t *testing.T) {
	for _, on := range []bool{false, true} {
		p, err := Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64", PodUserNS: on})
		if err != nil {
			t.Fatal(err)
		}
		k8s, err := p.Kubernetes()
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(k8s, []byte("hostUsers: false")); got != on {
			t.Errorf("PodUserNS %v: hostUsers: false in the manifest %v:\n%s", on, got, k8s)
		}
	}
	src := posterSource(t)
	src.Config.Config.User = "70000:70000"
	_, err := Build(src, nil, Options{Arch: "amd64", PodUserNS: true})
	if err == nil || !strings.Contains(err.Error(), "the process's user is 70000") {
		t.Errorf("a user beyond the kubelet's 65536 IDs: %v", err)
	}
}
