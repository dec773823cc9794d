package cpaddr

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse(Split(" 10.0.0.1:7444, cp.example.com:7444 ,[::1]:7444,cp-2.example.com.:443"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.1:7444", "cp.example.com:7444", "[::1]:7444", "cp-2.example.com.:443"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i, s := range got {
		if s.String() != want[i] {
			t.Errorf("entry %d = %s, want %s (order kept)", i+1, s, want[i])
		}
	}
}

func TestParseRejects(t *testing.T) {
	many := strings.Repeat("a.example:1,", MaxServers) + "b.example:1"
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", []string{"required"}},
		{"a.example:7444,,b.example:7444", []string{"entry 2: empty"}},
		{"a.example:7444,", []string{"entry 2: empty"}},
		{"a.example", []string{"entry 1", `"a.example" is not host:port`}},
		{"a.example:", []string{"entry 1", `port "" is not a number`}},
		{"a.example:0", []string{"entry 1", `port "0"`}},
		{"a.example:70000", []string{"entry 1", `port "70000"`}},
		{"a.example:http", []string{"entry 1", `port "http"`}},
		{":7444", []string{"entry 1", "has no host"}},
		{"bad_host!:7444", []string{"entry 1", `host "bad_host!" is neither`}},
		{"https://a.example:7444", []string{"entry 1", "not host:port"}},
		{"a.example:7444,b.example:7444,A.EXAMPLE.:7444", []string{`entry 3 "A.EXAMPLE.:7444" repeats entry 1`}},
		{"ok.example:1,:2,ok.example:1", []string{"entry 2", "has no host", "entry 3", "repeats entry 1"}},
		{many, []string{"17 addresses: at most 16"}},
	} {
		_, err := Parse(Split(tt.in))
		if err == nil {
			t.Errorf("Parse(%q) accepted", tt.in)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q) = %v, want it to say %q", tt.in, err, w)
			}
		}
	}
}
