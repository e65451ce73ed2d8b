package profile

import (
	"context"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/imagecheck/imagetest"
)

// TestFromImage: the user name resolves through the /etc/passwd of the final
// filesystem, not the one an earlier layer had.
func TestFromImage(t *testing.T) {
	img := imagetest.Image(t, v1.Config{User: "app:web", Cmd: []string{"/app"}},
		imagetest.Step{CreatedBy: "ADD base.tar /", Layer: imagetest.Layer(t,
			imagetest.Dir("etc"),
			imagetest.File("etc/passwd", "root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"),
			imagetest.File("etc/group", "web:x:33:\n"))},
		imagetest.Step{CreatedBy: "RUN useradd", Layer: imagetest.Layer(t,
			imagetest.File("etc/passwd", "root:x:0:0::/:/bin/sh\napp:x:2000:2000::/:/bin/sh\n"))})
	ref := imagetest.WriteOCI(t, filepath.Join(t.TempDir(), "oci"), "v1", img)
	ctx := context.Background()
	im, err := image.Open(ctx, ref, image.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = im.Close() }()
	p, err := FromImage(ctx, im, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.User != (User{UID: 2000, GID: 33, Name: "app", Source: "image"}) {
		t.Errorf("user %+v, want 2000:33 from the last layer's passwd", p.User)
	}
	if p.Image != Placeholder || p.Name != "app" {
		t.Errorf("image %q name %q", p.Image, p.Name)
	}
}
