package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range []Kind{KindOperator, KindAPIToken, KindEnrollment} {
		for i := 0; i < 20; i++ {
			s, err := Generate(k)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s, k.Prefix()) || len(s) != SecretLen {
				t.Fatalf("Generate(%s) = %q", k, s)
			}
			if seen[s] {
				t.Fatalf("Generate returned %q twice", s)
			}
			seen[s] = true
			got, err := Parse(s)
			if err != nil || got != k {
				t.Fatalf("Parse(%q) = %v, %v; want %v", s, got, err, k)
			}
			if err := ParseKind(s, k); err != nil {
				t.Fatalf("ParseKind: %v", err)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	good, err := Generate(KindAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, s := range map[string]string{
		"empty":           "",
		"short":           good[:SecretLen-1],
		"long":            good + "0",
		"unknown prefix":  "sxq_" + good[4:],
		"upper hex":       strings.ToUpper(good[:4]) + strings.ToUpper(good[4:]),
		"upper body":      good[:4] + strings.ToUpper(good[4:]),
		"body changed":    flip(10),
		"checksum change": flip(SecretLen - 1),
		"non hex":         good[:20] + "g" + good[21:],
		"bearer":          "Bearer " + good[7:],
	} {
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse(%q) = %v, want ErrMalformed", name, s, err)
		}
	}
	if err := ParseKind(good, KindOperator); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseKind(api token, operator) = %v", err)
	}
}

func TestHash(t *testing.T) {
	a, b := Hash("sxt_x"), Hash("sxt_y")
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Fatalf("hashes %x %x", a, b)
	}
	if !HashEqual(a, Hash("sxt_x")) || HashEqual(a, b) || HashEqual(a, a[:31]) {
		t.Fatal("HashEqual is wrong")
	}
}

func FuzzParse(f *testing.F) {
	for _, k := range []Kind{KindOperator, KindAPIToken, KindEnrollment} {
		s, err := Generate(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	f.Add("")
	f.Add("sxt_")
	f.Add(strings.Repeat("a", SecretLen))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrMalformed", s, err)
			}
			return
		}
		// Anything accepted must be exactly the generated shape.
		if len(s) != SecretLen || !strings.HasPrefix(s, k.Prefix()) {
			t.Fatalf("Parse accepted %q as %s", s, k)
		}
		if checksum(s[:SecretLen-sumLen]) != s[SecretLen-sumLen:] {
			t.Fatalf("Parse accepted %q with a wrong checksum", s)
		}
	})
}
