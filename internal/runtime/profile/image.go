package profile

import (
	"context"
	"encoding/json"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/policy"
)

// idFiles reads /etc/passwd and /etc/group from every layer; the final filesystem's
// copy is picked after the walk.
var idFiles = &image.PathAnalyzer{
	Name:     "profile-ids/1",
	Paths:    []string{"/etc/passwd", "/etc/group"},
	MaxBytes: maxIDFile,
	Func: func(f *image.File, content []byte) ([]image.Record, error) {
		data, err := json.Marshal(string(content))
		if err != nil {
			return nil, err
		}
		return []image.Record{{Kind: "content", Data: data}}, nil
	},
}

// FromImage walks img once for the files that map user names to IDs and builds its
// profile under the charter file cf (nil: defaults only).
func FromImage(ctx context.Context, img *image.Image, cf *policy.File, opts Options) (*Profile, error) {
	idx, err := img.Walk(ctx, idFiles)
	if err != nil {
		return nil, err
	}
	src := Source{Ref: img.Ref(), Config: img.ConfigFile(), Passwd: []byte{}, Group: []byte{}}
	if d := img.Digest(); d.Hex != "" {
		src.Digest = d.String()
	}
	for _, r := range idx.Records() {
		if r.Analyzer != idFiles.Name || !idx.Visible(r.Layer, r.Path) {
			continue
		}
		var s string
		if json.Unmarshal(r.Data, &s) != nil {
			continue
		}
		if r.Path == "/etc/passwd" {
			src.Passwd = []byte(s)
		} else {
			src.Group = []byte(s)
		}
	}
	return Build(src, cf, opts)
}
