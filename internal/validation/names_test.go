package validation

import (
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string
	}{
		{"acme", true, ""},
		{"a1", true, ""},
		{"team-42-prod", true, ""},
		{"a" + strings.Repeat("b", 62), true, ""},
		{"a" + strings.Repeat("b", 63), false, "2..63"},
		{"", false, "required"},
		{"a", false, "2..63"},
		{"1abc", false, "starting with a letter"},
		{"Acme", false, "lowercase"},
		{"acme_corp", false, "lowercase"},
		{"acme-", false, "must not end with '-'"},
		{"ac me", false, "lowercase"},
	} {
		err := Slug(tc.in)
		check(t, "Slug", tc.in, err, tc.ok, tc.want)
	}
}

func TestDisplayNameAndDescription(t *testing.T) {
	check(t, "DisplayName", "ok", DisplayName("Acme Corp – Prod"), true, "")
	check(t, "DisplayName", "empty", DisplayName(""), true, "")
	check(t, "DisplayName", "long", DisplayName(strings.Repeat("x", 257)), false, "at most 256")
	check(t, "DisplayName", "newline", DisplayName("a\nb"), false, "non-printable")
	check(t, "DisplayName", "bad utf8", DisplayName("a\xffb"), false, "UTF-8")
	check(t, "Description", "newline", Description("line one\nline two\tx"), true, "")
	check(t, "Description", "nul", Description("a\x00b"), false, "non-printable")
	check(t, "Description", "long", Description(strings.Repeat("é", 1025)), false, "at most 1024")
}

func TestTags(t *testing.T) {
	many := map[string]string{}
	for i := 0; i < 51; i++ {
		many[strings.Repeat("k", i+1)] = "v"
	}
	for _, tc := range []struct {
		name string
		in   map[string]string
		ok   bool
		want string
	}{
		{"nil", nil, true, ""},
		{"valid", map[string]string{"env": "prod", "Cost Center": "a.b/c:d=e+f-g@h_i", "empty": ""}, true, ""},
		{"unicode", map[string]string{"équipe": "données"}, true, ""},
		{"too many", many, false, "at most 50"},
		{"empty key", map[string]string{"": "x"}, false, `[""]`},
		{"long key", map[string]string{strings.Repeat("k", 129): "x"}, false, "at most 128"},
		{"long value", map[string]string{"k": strings.Repeat("v", 257)}, false, "at most 256"},
		{"bad char key", map[string]string{"a*b": "x"}, false, `may contain only`},
		{"bad char value", map[string]string{"k": "a;b"}, false, `may contain only`},
		{"reserved", map[string]string{"aws:createdBy": "x"}, false, `reserved prefix`},
		{"reserved upper", map[string]string{"AWS:x": "x"}, false, `reserved prefix`},
	} {
		check(t, "Tags", tc.name, Tags(tc.in), tc.ok, tc.want)
	}
	check(t, "ExcludeTags", "star", ExcludeTags(map[string]string{"keep": "*"}), true, "")
	check(t, "ExcludeTags", "bad", ExcludeTags(map[string]string{"keep": "a|b"}), false, "may contain only")
}

func TestErrorsCollectsPaths(t *testing.T) {
	var e Errors
	if e.Err() != nil {
		t.Fatal("empty Errors must be nil")
	}
	e.Check("tenant.name", Slug("Bad"))
	e.Check("tenant.labels", Tags(map[string]string{"aws:x": "y"}))
	e.Check("tenant.regions", RegionList([]string{"us-east-1", "mars-1"}))
	e.Check("tenant.display_name", nil)
	got := e.Fields()
	want := []string{"tenant.name", `tenant.labels["aws:x"]`, "tenant.regions[1]"}
	if len(got) != len(want) {
		t.Fatalf("fields = %v, want %v", got, want)
	}
	for i, f := range got {
		if f.Field != want[i] {
			t.Errorf("field %d = %q, want %q", i, f.Field, want[i])
		}
		if f.Reason == "" {
			t.Errorf("field %s has no reason", f.Field)
		}
	}
	if err := e.Err(); err == nil || !strings.Contains(err.Error(), "tenant.regions[1]: \"mars-1\" is not a known AWS region") {
		t.Errorf("Error() = %v", err)
	}
}

func check(t *testing.T, fn, in string, err error, ok bool, want string) {
	t.Helper()
	if ok {
		if err != nil {
			t.Errorf("%s(%q) = %v, want nil", fn, in, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s(%q) = nil, want error containing %q", fn, in, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s(%q) = %q, want it to contain %q", fn, in, err, want)
	}
}
