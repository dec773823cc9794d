// Package image builds agentd's container image without a container
// engine: two layers onto an empty base (the system files a static Go
// binary needs, then the binary), written as an OCI image layout in a tar
// archive ("oci-archive") that podman, skopeo, crane and Docker 25+ load.
//
// Everything in the image derives from its inputs and Created: building
// twice from the same binary, CA bundle and spec gives the same digest.
package image

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed layout: the user is "nonroot" of distroless images
// (65532), so volume permissions and PodSecurity settings written for
// those work unchanged.
const (
	UID          = 65532
	UserName     = "nonroot"
	BinaryPath   = "/usr/local/bin/agentd"
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// DataDir is the image's SIRSI_DATA_DIR, owned by the user: mount a
	// volume there to keep an agent's identity and spool.
	DataDir = "/var/lib/agentd"
)

// OCI annotation keys (image-spec annotations.md) used as labels.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	// refNameAnnotation names the image inside the layout's index.json.
	refNameAnnotation = "org.opencontainers.image.ref.name"
)

// Spec is what goes into the image besides its fixed layout.
type Spec struct {
	// Binary is agentd built for Linux with CGO_ENABLED=0.
	Binary string
	// CABundle is a PEM file of trusted roots (Debian's
	// /etc/ssl/certs/ca-certificates.crt).
	CABundle string
	Version  string
	Revision string
	Source   string
	// Created is the image's creation time and every file's mtime
	// (SOURCE_DATE_EPOCH in reproducible builds).
	Created time.Time
}

// Build assembles the image.
func Build(s Spec) (v1.Image, error) {
	if s.Version == "" || s.Revision == "" || s.Source == "" {
		return nil, errors.New("building the image: version, revision and source are all required (they become its labels)")
	}
	if s.Created.IsZero() {
		return nil, errors.New("building the image: a creation time is required (SOURCE_DATE_EPOCH)")
	}
	created := s.Created.UTC()
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading agentd: %w", err)
	}
	arch, err := staticLinuxArch(bin)
	if err != nil {
		return nil, fmt.Errorf("agentd binary %s: %w", s.Binary, err)
	}
	bundle, err := os.ReadFile(s.CABundle)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(bundle) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", s.CABundle)
	}

	uid := strconv.Itoa(UID)
	system, err := layer(created, []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" + UserName + ":x:" + uid + ":" + uid + ":" + UserName + ":" + DataDir + ":/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\n" + UserName + ":x:" + uid + ":\n")},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: bundle},
		{name: "tmp/", mode: 0o1777},
		{name: "var/", mode: 0o755},
		{name: "var/lib/", mode: 0o755},
		{name: strings.TrimPrefix(DataDir, "/") + "/", mode: 0o700, owner: UID},
	})
	if err != nil {
		return nil, fmt.Errorf("building the system layer: %w", err)
	}
	binary, err := layer(created, []entry{
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, data: bin},
	})
	if err != nil {
		return nil, fmt.Errorf("building the agentd layer: %w", err)
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: system, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "agentd image: passwd, group, CA bundle, data dir"}},
		mutate.Addendum{Layer: binary, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "agentd image: agentd " + s.Version}},
	)
	if err != nil {
		return nil, fmt.Errorf("adding the layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = "linux", arch
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       uid + ":" + uid,
		WorkingDir: DataDir,
		Env: []string{
			"PATH=/usr/local/bin",
			"SSL_CERT_FILE=" + CABundlePath,
			"SIRSI_DATA_DIR=" + DataDir,
		},
		Labels: map[string]string{
			LabelSource:   s.Source,
			LabelVersion:  s.Version,
			LabelRevision: s.Revision,
			LabelCreated:  created.Format(time.RFC3339),
			LabelTitle:    "agentd",
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting the image config: %w", err)
	}
	return img, nil
}

// entry is one file or directory (name ending in "/") of a layer, owned by
// root unless owner is set.
type entry struct {
	name  string
	mode  int64
	owner int
	data  []byte
}

// layer tars entries (in the order given: parents first) with fixed owners
// and times, so the layer's digest depends on the content alone.
func layer(mtime time.Time, entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.owner, Gid: e.owner, ModTime: mtime, Format: tar.FormatPAX}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// staticLinuxArch returns the GOARCH of a statically linked Linux ELF
// executable; a dynamically linked one would not start on an empty base.
func staticLinuxArch(b []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("not an ELF executable (build it with GOOS=linux): %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", errors.New("dynamically linked (it names an ELF interpreter); build it with CGO_ENABLED=0")
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	default:
		return "", fmt.Errorf("machine %s is neither amd64 nor arm64", f.Machine)
	}
}

// WriteArchive writes img as an OCI image layout in a tar archive at path,
// its index naming it ref.
func WriteArchive(img v1.Image, ref, path string) error {
	dir, err := os.MkdirTemp("", "agentd-image-")
	if err != nil {
		return fmt.Errorf("writing the image: %w", err)
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the image layout: %w", err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: ref})); err != nil {
		return fmt.Errorf("writing the image layout: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("writing the image: %w", err)
	}
	return tarDir(dir, path, cf.Created.Time)
}

// tarDir archives dir's files in name order with fixed owners and times.
func tarDir(dir, path string, mtime time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the image layout: %w", err)
	}
	sort.Strings(names)
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("writing the image archive: %w", err)
	}
	defer os.Remove(tmp)
	defer out.Close()
	tw := tar.NewWriter(out)
	for _, p := range names {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("writing the image archive: %w", err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg, Size: info.Size(), Format: tar.FormatPAX}
		if info.IsDir() {
			h.Name, h.Mode, h.Typeflag, h.Size = h.Name+"/", 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing the image archive: %w", err)
		}
		if !info.IsDir() {
			if err := copyFile(tw, p); err != nil {
				return fmt.Errorf("writing the image archive: %w", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing the image archive: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing the image archive: %w", err)
	}
	return os.Rename(tmp, path)
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
