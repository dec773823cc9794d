package version

import (
	"strings"
	"testing"
)

func TestCheckAgent(t *testing.T) {
	for _, c := range []struct {
		agent, server string
		want          string // "" accepted, else part of the error
	}{
		{"v1.4.2", "v1.4.0", ""},
		{"v1.3.9", "v1.4.0", ""},
		{"v1.3.0-rc.1", "v1.4.0", ""},
		{"v1.4.0-3-g2b9f8c7", "v1.4.1", ""},
		{"v0.4.0", "v0.5.0", ""},
		{"v1.2.0", "v1.4.0", "more than one minor version older than server v1.4.0; upgrade the agent to v1.3 or v1.4"},
		{"v0.3.0", "v0.5.0", "more than one minor version older"},
		{"v1.5.0", "v1.4.3", "newer than server v1.4.3; upgrade the server first"},
		{"v2.0.0", "v1.9.0", "differ in major version"},
		{"v0.9.0", "v1.0.0", "differ in major version"},
		{"dev", "v1.4.0", ""},
		{"v1.0.0", "dev", ""},
		{"2b9f8c7", "v1.4.0", ""},
	} {
		err := CheckAgent(c.agent, c.server)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("agent %s, server %s: refused: %v", c.agent, c.server, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("agent %s, server %s: %v, want an error containing %q", c.agent, c.server, err, c.want)
		}
	}
}
