package daemon

import (
	"strings"
	"testing"
)

// `agentd -h` lists every runnable command, nested ones by their full
// path; a command's -h shows its flags with their defaults.
func TestHelpListsNestedCommandsAndDefaults(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := Main([]string{"-h"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("agentd -h: exit %d", code)
	}
	var walk func(prefix string, cs []*command)
	walk = func(prefix string, cs []*command) {
		for _, c := range cs {
			if c.flags != nil && !strings.Contains(stderr.String(), "\n  "+prefix+c.name+" ") {
				t.Errorf("agentd -h does not list %q:\n%s", prefix+c.name, stderr.String())
			}
			walk(prefix+c.name+" ", c.subs)
		}
	}
	walk("", root.subs)
	for _, want := range []string{"server rotate-ca stage", "server audit verify", "Usage: agentd server [flags]"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("agentd -h lacks %q", want)
		}
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"server", "-h"}, []string{"-listen host:port", "(default 127.0.0.1:7443)", "(default 24h0m0s)", "env SIRSI_PLAINTEXT"}},
		{[]string{"agent", "-h"}, []string{"(default 127.0.0.1:7481)", "(default @every 15m)"}},
		{[]string{"sim", "-h"}, []string{"(default \"127.0.0.1:4566\")"}},
	} {
		var out, errb strings.Builder
		if code := Main(tc.args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%v lacks %q:\n%s", tc.args, w, errb.String())
			}
		}
	}
	var out, errb strings.Builder
	if code := Main([]string{"help"}, &out, &errb); code != exitOK || !strings.Contains(errb.String(), "Usage: agentd") {
		t.Errorf("agentd help: exit %d\n%s", code, errb.String())
	}
}
