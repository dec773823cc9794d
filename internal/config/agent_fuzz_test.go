package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// parseAgent is AgentLoader.Load's file path without touching disk.
func parseAgent(src []byte) (*Agent, error) {
	file, diags := hclparse.NewParser().ParseHCL(src, "agent.hcl")
	if diags.HasErrors() {
		return nil, diags
	}
	c := AgentDefaults()
	c.sources = map[string]Source{}
	if err := errors.Join(applyBody(&c, agentFields, file.Body)...); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// FuzzAgentConfigFile feeds the agent's HCL loader arbitrary source after
// four secret settings (enrollment token, Vault token, AppRole secret id,
// role external id). It must not panic, must explain every refusal, and no
// error may quote a secret: configuration errors end up in logs.
func FuzzAgentConfigFile(f *testing.F) {
	f.Add([]byte("k1"), []byte("data_dir = \"/var/lib/agentd\"\nserver = \"cp.example.com:8444\"\n"))
	f.Add([]byte("k2"), []byte("schedule {\n  discovery = \"*/5 * * * *\"\n  jitter = \"30s\"\n}\ncost_tag_keys = [\"team\", 1]\n"))
	f.Add([]byte("k3"), []byte("enroll_token = \"again\"\nvault {\n  address = \"ftp://x\"\n}\n"))
	f.Add([]byte("k4"), []byte("aws {\n  limiter_scale = \"-1\"\n  retry_mode = \"${var.x}\"\n}\nspool_max_bytes = 1e400\n"))
	f.Add([]byte("k5"), []byte("log_level = \"loud\"\nhttp_listen = \"[::1\"\nschedule { costs = \"@every 0s\" }\n"))
	f.Add([]byte("k6"), []byte{0xff, '=', '"', '\n'})
	f.Fuzz(func(t *testing.T, seed, rest []byte) {
		sum := sha256.Sum256(seed)
		secret := "s3cr3t" + hex.EncodeToString(sum[:12])
		if strings.Contains(string(rest), secret) {
			return
		}
		src := "enroll_token = \"" + secret + "-enroll\"\n" +
			"vault {\n  token = \"" + secret + "-vault\"\n  approle_secret_id = \"" + secret + "-approle\"\n}\n" +
			"aws {\n  external_id = \"" + secret + "-external\"\n}\n" + string(rest)
		c, err := parseAgent([]byte(src))
		if err == nil {
			if c == nil {
				t.Fatal("nil config without an error")
			}
			return
		}
		msg := err.Error()
		if strings.TrimSpace(msg) == "" {
			t.Fatal("empty error message")
		}
		if strings.Contains(msg, secret) {
			t.Fatalf("the error quotes a secret:\n%s", msg)
		}
	})
}
