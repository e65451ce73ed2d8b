// Command mkimage packs a root filesystem directory into a one-layer image with a USER
// and an ENTRYPOINT, written both as an OCI image layout and as a `docker load` archive:
// the probe image the profile integration test runs under runc and dockerd.
//
//	mkimage -rootfs DIR -user probe -entrypoint /probe -oci OUT/oci -tar OUT/probe.tar -tag charter-probe:it
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	rootfs := flag.String("rootfs", "", "root filesystem directory")
	user := flag.String("user", "", "USER")
	entry := flag.String("entrypoint", "", "ENTRYPOINT (comma-separated)")
	ociDir := flag.String("oci", "", "write an OCI layout here")
	tarPath := flag.String("tar", "", "write a docker load archive here")
	tag := flag.String("tag", "charter-probe:it", "tag of the archive")
	flag.Parse()

	layerTar, err := tarDir(*rootfs)
	if err != nil {
		log.Fatal(err)
	}
	layer, err := tarball.LayerFromReader(bytes.NewReader(layerTar))
	if err != nil {
		log.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.User = *user
	cfg.Config.Entrypoint = strings.Split(*entry, ",")
	cfg.Config.Env = []string{"PATH=/"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		log.Fatal(err)
	}
	if *ociDir != "" {
		p, err := layout.Write(*ociDir, empty.Index)
		if err != nil {
			log.Fatal(err)
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "it"})); err != nil {
			log.Fatal(err)
		}
	}
	if *tarPath != "" {
		ref, err := name.NewTag(*tag)
		if err != nil {
			log.Fatal(err)
		}
		if err := tarball.WriteToFile(*tarPath, ref, img); err != nil {
			log.Fatal(err)
		}
	}
}

// tarDir packs dir with root ownership and the directories' own modes.
func tarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Name, h.Uid, h.Gid, h.Uname, h.Gname = filepath.ToSlash(rel), 0, 0, "", ""
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer func() { _ = f.Close() }()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
