package image

import (
	"archive/tar"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	testVersion  = "v0.9.1-imagetest"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testSource   = "https://github.com/sirsinexus/terraform-provider-sirsi"
	caBundle     = "/etc/ssl/certs/ca-certificates.crt"
	// repoRoot is the main module, which holds agentd.
	repoRoot   = "../../.."
	versionVar = "github.com/sirsinexus/terraform-provider-sirsi/internal/version.Version"
)

// buildAgentd builds the real agentd as releases and `make image` do:
// static (CGO_ENABLED=0), with the version stamped in. It is built from
// the repository's main module (this module's directory is inside it).
// Without -trimpath, so a CGO_ENABLED=0 build made before (by this test
// on an earlier run, or by hand) is reused from the build cache: then
// this costs the link only. The first build on a machine compiles
// agentd's dependencies once more without cgo (see docs/benchmarks.md).
func buildAgentd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agentd")
	cmd := exec.Command("go", "build", "-ldflags", "-X "+versionVar+"="+testVersion, "-o", bin, "./agentd")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building agentd: %v\n%s", err, out)
	}
	return bin
}

// TestImage builds the image into an OCI archive, reads it back with
// go-containerregistry's layout reader (as a registry client would) and
// checks what a container runtime will do with it: the entrypoint, the
// user, the labels, the files of each layer, and that the binary inside
// is the one given, still static.
func TestImage(t *testing.T) {
	if _, err := os.Stat(caBundle); err != nil {
		t.Skipf("no CA bundle to put in the image: %v", err)
	}
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	spec := Spec{Binary: buildAgentd(t), CABundle: caBundle, Version: testVersion, Revision: testRevision, Source: testSource, Created: created}
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "agentd.tar")
	if err := WriteArchive(img, "agentd:"+testVersion, archive); err != nil {
		t.Fatal(err)
	}
	got, ref := readArchive(t, archive)
	if ref != "agentd:"+testVersion {
		t.Errorf("index names the image %q", ref)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := got.Digest(); err != nil || d != want {
		t.Fatalf("read back digest %v (%v), built %v", d, err, want)
	}
	if mt, err := got.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %q (%v), want OCI", mt, err)
	}

	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cf.Config.Entrypoint, " ") != "/usr/local/bin/agentd" || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want the numeric non-root 65532:65532", cf.Config.User)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   testSource,
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.revision": testRevision,
		"org.opencontainers.image.created":  "2026-11-30T12:00:00Z",
		"org.opencontainers.image.title":    "agentd",
	}
	for k, v := range wantLabels {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], v)
		}
	}
	if len(cf.Config.Labels) != len(wantLabels) {
		t.Errorf("labels %v, want exactly %v", cf.Config.Labels, wantLabels)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created %v, want %v", cf.Created, created)
	}

	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 || len(cf.RootFS.DiffIDs) != 2 || len(cf.History) != 2 {
		t.Fatalf("%d layers, %d diff ids, %d history entries; want 2 each", len(layers), len(cf.RootFS.DiffIDs), len(cf.History))
	}
	system := layerFiles(t, layers[0])
	wantSystem := []string{"etc/", "etc/passwd", "etc/group", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt", "tmp/", "var/", "var/lib/", "var/lib/agentd/"}
	checkNames(t, "system layer", system, wantSystem)
	if !strings.Contains(string(system["etc/passwd"].data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no user 65532:\n%s", system["etc/passwd"].data)
	}
	if d := system["var/lib/agentd/"]; d.hdr == nil || d.hdr.Uid != 65532 || d.hdr.Mode != 0o700 {
		t.Errorf("data dir header %+v, want owned by 65532, mode 0700", d.hdr)
	}
	inImage := x509.NewCertPool()
	if !inImage.AppendCertsFromPEM(system["etc/ssl/certs/ca-certificates.crt"].data) {
		t.Error("the image's CA bundle holds no certificate")
	}
	host, err := os.ReadFile(caBundle)
	if err != nil {
		t.Fatal(err)
	}
	if string(system["etc/ssl/certs/ca-certificates.crt"].data) != string(host) {
		t.Error("the image's CA bundle differs from the file given")
	}

	agentd := layerFiles(t, layers[1])
	checkNames(t, "agentd layer", agentd, []string{"usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/agentd"})
	bin := agentd["usr/local/bin/agentd"]
	if bin.hdr.Mode != 0o755 || bin.hdr.Uid != 0 {
		t.Errorf("agentd header %+v, want root-owned 0755", bin.hdr)
	}
	for name, f := range mergeFiles(system, agentd) {
		if !f.hdr.ModTime.Equal(created) {
			t.Errorf("%s mtime %v, want the creation time %v", name, f.hdr.ModTime, created)
		}
	}
	given, err := os.ReadFile(spec.Binary)
	if err != nil {
		t.Fatal(err)
	}
	if string(bin.data) != string(given) {
		t.Error("the image's agentd differs from the binary given")
	}
	if arch, err := staticLinuxArch(bin.data); err != nil || arch != runtime.GOARCH {
		t.Errorf("the image's agentd: %s, %v", arch, err)
	}
	// What the image's entrypoint runs is agentd of the version the
	// labels name: run the extracted file.
	if runtime.GOOS == "linux" {
		extracted := filepath.Join(t.TempDir(), "agentd")
		if err := os.WriteFile(extracted, bin.data, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(extracted, "version").CombinedOutput()
		if err != nil || string(out) != "agentd "+testVersion+"\n" {
			t.Errorf("the image's agentd version: %q (%v), want %q", out, err, "agentd "+testVersion)
		}
	}

	// The same inputs give the same image.
	again, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := again.Digest(); err != nil || d != want {
		t.Errorf("second build digest %v (%v), first %v: the build is not reproducible", d, err, want)
	}
}

// TestImageRefusesBadInputs: a dynamically linked binary would not start
// on the empty base; labels and the creation time are required.
func TestImageRefusesBadInputs(t *testing.T) {
	dynamic, err := exec.LookPath("ls")
	if err != nil {
		t.Fatal(err)
	}
	good := Spec{Binary: dynamic, CABundle: caBundle, Version: "v1.0.0", Revision: "abc", Source: testSource, Created: time.Unix(1, 0)}
	cases := map[string]struct {
		edit func(*Spec)
		want string
	}{
		"dynamic binary": {func(*Spec) {}, "dynamically linked"},
		"not ELF":        {func(s *Spec) { s.Binary = caBundle }, "not an ELF executable"},
		"no version":     {func(s *Spec) { s.Version = "" }, "version, revision and source are all required"},
		"no time":        {func(s *Spec) { s.Created = time.Time{} }, "SOURCE_DATE_EPOCH"},
		"no binary":      {func(s *Spec) { s.Binary = "/nonexistent" }, "reading agentd"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := good
			c.edit(&s)
			_, err := Build(s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// readArchive unpacks an OCI archive and opens its one image.
func readArchive(t *testing.T, path string) (v1.Image, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("the archive's index lists %d manifests, want 1", len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img, m.Manifests[0].Annotations[refNameAnnotation]
}

type file struct {
	hdr  *tar.Header
	data []byte
	pos  int
}

// layerFiles reads a layer's tar entries by name, with their order.
func layerFiles(t *testing.T, l v1.Layer) map[string]file {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = file{hdr: h, data: b, pos: i}
	}
}

// checkNames wants exactly names, in that order (parents before children).
func checkNames(t *testing.T, what string, files map[string]file, names []string) {
	t.Helper()
	if len(files) != len(names) {
		t.Errorf("%s holds %d entries, want %v", what, len(files), names)
	}
	for i, n := range names {
		if f, ok := files[n]; !ok || f.pos != i {
			t.Errorf("%s: %s missing or out of order (%+v)", what, n, f.hdr)
		}
	}
}

func mergeFiles(a, b map[string]file) map[string]file {
	m := map[string]file{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}
