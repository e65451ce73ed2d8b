package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// openDir reads an unpacked root filesystem (dir:ROOTFS) as one layer, with no config.
func openDir(im *Image, dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return newErr(ErrNotFound, im.ref, "dir: wants a directory holding a root filesystem", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return newErr(ErrNotFound, im.ref, "", err)
	}
	im.closers = append(im.closers, root.Close)
	im.layers = []*Layer{{Index: 0, Size: -1}}
	im.sources = []layerSource{{open: func(context.Context) (io.ReadCloser, error) {
		return newDirTar(root, im.opts.Limits.MaxFiles)
	}}}
	return nil
}

// newDirTar serves a directory tree as an uncompressed tar stream, so dir: goes through
// the same walk as every other source. Symlinks are recorded, never followed, and files
// are opened through os.Root, so nothing outside the tree is read.
func newDirTar(root *os.Root, maxFiles int) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := writeDirTar(tw, root, maxFiles)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

func writeDirTar(tw *tar.Writer, root *os.Root, maxFiles int) error {
	n := 0
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n++; n > maxFiles {
			return fmt.Errorf("more than %d files (Limits.MaxFiles)", maxFiles)
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = root.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil // sockets and the like have no tar form; they hold no content
		}
		h.Name = path.Clean(p)
		if info.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		_, err = io.CopyN(tw, f, h.Size)
		return err
	})
}
