package release

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/goreleaser/goreleaser/v2/pkg/config"
)

// configPath is the release configuration at the repository's root.
const configPath = "../../../.goreleaser.yml"

// TestGoReleaserConfig is `goreleaser check` without building GoReleaser:
// the file is loaded by GoReleaser's own strict loader (an unknown or
// misspelt key fails, as it does in `goreleaser check`), every option
// GoReleaser marks deprecated in its schema is refused, and the ids that
// tie builds, archives, the checksum file and the signatures together
// must name something that exists (GoReleaser would otherwise release
// an empty set silently).
func TestGoReleaserConfig(t *testing.T) {
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatalf("goreleaser refuses %s: %v", configPath, err)
	}
	if cfg.Version != 2 {
		t.Fatalf("version %d, want 2 (the only one GoReleaser v2 loads strictly)", cfg.Version)
	}
	for _, d := range deprecatedInUse(reflect.ValueOf(cfg), "") {
		t.Errorf("deprecated option in use: %s", d)
	}

	builds := map[string]bool{}
	for _, b := range cfg.Builds {
		builds[b.ID] = true
	}
	archives := map[string]bool{}
	for _, a := range cfg.Archives {
		archives[a.ID] = true
		for _, id := range a.IDs {
			if !builds[id] {
				t.Errorf("archive %q packs build %q, which does not exist", a.ID, id)
			}
		}
	}
	for _, id := range cfg.Checksum.IDs {
		if !archives[id] {
			t.Errorf("checksum lists archive %q, which does not exist", id)
		}
	}
	for _, s := range cfg.Signs {
		for _, id := range s.IDs {
			if !archives[id] {
				t.Errorf("sign %q signs archive %q, which does not exist", s.ID, id)
			}
		}
	}
}

// TestReleaseIsSigned checks the release's trust chain: every archive
// (the provider's, which the Terraform Registry verifies, and agentd's)
// has its checksum in the one SHA256SUMS file, and that file gets a
// detached GPG signature with the key the Registry knows.
func TestReleaseIsSigned(t *testing.T) {
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Checksum.Disable || cfg.Checksum.Split {
		t.Fatalf("checksum disabled=%v split=%v: the Registry wants one SHA256SUMS file", cfg.Checksum.Disable, cfg.Checksum.Split)
	}
	if cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum algorithm %q, want sha256", cfg.Checksum.Algorithm)
	}
	if want := "{{ .ProjectName }}_{{ .Version }}_SHA256SUMS"; cfg.Checksum.NameTemplate != want {
		t.Errorf("checksum file %q, want the Registry's %q", cfg.Checksum.NameTemplate, want)
	}
	// No ids means every archive; a list must hold them all.
	if ids := cfg.Checksum.IDs; len(ids) > 0 {
		for _, a := range cfg.Archives {
			if !slices.Contains(ids, a.ID) {
				t.Errorf("archive %q has no checksum in the signed file (checksum ids %v)", a.ID, ids)
			}
		}
	}

	var signed bool
	for _, s := range cfg.Signs {
		if s.Artifacts != "checksum" {
			continue
		}
		signed = true
		args := strings.Join(s.Args, " ")
		for _, want := range []string{"--batch", "--local-user {{ .Env.GPG_FINGERPRINT }}", "--output ${signature}", "--detach-sign ${artifact}"} {
			if !strings.Contains(args, want) {
				t.Errorf("sign %q args %q lack %q", s.ID, args, want)
			}
		}
		if s.Cmd != "" && s.Cmd != "gpg" {
			t.Errorf("sign %q runs %q, want gpg (the Registry verifies GPG signatures)", s.ID, s.Cmd)
		}
	}
	if !signed {
		t.Error("no signs entry signs the checksum file")
	}
}

// deprecatedInUse walks a loaded configuration and names, by YAML path,
// every field that GoReleaser's schema tags deprecated and that is set.
func deprecatedInUse(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return deprecatedInUse(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		var out []string
		for i := range v.Len() {
			out = append(out, deprecatedInUse(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case reflect.Map:
		var out []string
		iter := v.MapRange()
		for iter.Next() {
			out = append(out, deprecatedInUse(iter.Value(), fmt.Sprintf("%s.%v", path, iter.Key()))...)
		}
		return out
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name == "" {
				name = f.Name
			}
			p := strings.TrimPrefix(path+"."+name, ".")
			if deprecatedTag(f.Tag.Get("jsonschema")) && !v.Field(i).IsZero() {
				out = append(out, p)
				continue
			}
			out = append(out, deprecatedInUse(v.Field(i), p)...)
		}
		return out
	default:
		return nil
	}
}

// deprecatedTag reports whether a jsonschema struct tag marks the field
// deprecated ("deprecated=true" or "deprecated=<why>").
func deprecatedTag(tag string) bool {
	for opt := range strings.SplitSeq(tag, ",") {
		if v, ok := strings.CutPrefix(opt, "deprecated="); ok && v != "false" {
			return true
		}
	}
	return false
}

// TestCheckFindsMistakes shows that the two checks above can fail: a
// misspelt key is refused by the loader, and a deprecated option is
// named by its path.
func TestCheckFindsMistakes(t *testing.T) {
	if _, err := config.LoadReader(strings.NewReader("version: 2\nchecksums:\n  algorithm: sha256\n")); err == nil {
		t.Error("the loader accepted the unknown key checksums")
	}
	cfg, err := config.LoadReader(strings.NewReader("version: 2\narchives:\n  - id: a\n    format: zip\n    builds: [b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := deprecatedInUse(reflect.ValueOf(cfg), "")
	want := []string{"archives[0].format", "archives[0].builds"}
	if !slices.Equal(got, want) {
		t.Errorf("deprecated options found %q, want %q", got, want)
	}
}
