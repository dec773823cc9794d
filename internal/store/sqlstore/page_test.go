package sqlstore

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func TestPageToken(t *testing.T) {
	type filter struct{ Region string }
	tok := encodePageToken("resources", filter{"us-east-1"}, []string{"a", "b"})
	key, err := decodePageToken("resources", filter{"us-east-1"}, tok, 2)
	if err != nil || len(key) != 2 || key[0] != "a" || key[1] != "b" {
		t.Fatalf("round trip: %v, %v", key, err)
	}
	if key, err := decodePageToken("resources", filter{}, "", 2); key != nil || err != nil {
		t.Fatalf("empty token: %v, %v", key, err)
	}
	for name, tc := range map[string]struct {
		list   string
		filter any
		token  string
		keyLen int
	}{
		"not base64":     {"resources", filter{"us-east-1"}, "!!!", 2},
		"not JSON":       {"resources", filter{"us-east-1"}, base64.RawURLEncoding.EncodeToString([]byte("{")), 2},
		"other list":     {"policies", filter{"us-east-1"}, tok, 2},
		"other filter":   {"resources", filter{"eu-west-1"}, tok, 2},
		"wrong key size": {"resources", filter{"us-east-1"}, tok, 3},
	} {
		if _, err := decodePageToken(tc.list, tc.filter, tc.token, tc.keyLen); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("%s: got %v, want ErrInvalidPageToken", name, err)
		}
	}
}

func TestPageSize(t *testing.T) {
	for in, want := range map[int]int{0: store.DefaultPageSize, -1: store.DefaultPageSize, 7: 7, store.MaxPageSize + 1: store.MaxPageSize} {
		if got := pageSize(store.Page{Size: in}); got != want {
			t.Errorf("pageSize(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestRebind(t *testing.T) {
	d := &Dialect{Dollar: true}
	if got := d.Rebind(`SELECT a FROM t WHERE b = ? AND (c, d) > (?, ?)`); got != `SELECT a FROM t WHERE b = $1 AND (c, d) > ($2, $3)` {
		t.Fatalf("dollar rebind: %s", got)
	}
	if got := (&Dialect{}).Rebind(`x = ?`); got != `x = ?` {
		t.Fatalf("question-mark dialect rewrote the query: %s", got)
	}
}

func TestMigrationsEmbedded(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		ms, err := migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || LatestSchemaVersion() != len(ms) {
			t.Fatalf("%s: %d migrations, latest version %d", d, len(ms), LatestSchemaVersion())
		}
	}
}

func TestReadStringMap(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"env": "prod"},
		{"a": "", "": "b", "k:1": "v,2", "team": "x}y"},
		{"quote\"key": "new\nline", "html": "<&>", "unicode": "grüße ✓", "esc": `back\slash`},
	} {
		enc, err := stringMap(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readStringMap(enc)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if len(got) != len(m) {
			t.Fatalf("%s decoded to %v", enc, got)
		}
		for k, v := range m {
			if got[k] != v {
				t.Fatalf("%s: key %q = %q, want %q", enc, k, got[k], v)
			}
		}
	}
	for _, bad := range []string{`{"a":"b"`, `{"a" :"b"}`, `{"a":1}`, `{"a":"b",}`, `{"a":"b""c":"d"}`} {
		if m, ok := parseFlatStringMap(bad); ok {
			t.Errorf("fast path accepted %s as %v", bad, m)
		}
	}
}
