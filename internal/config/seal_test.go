package config

import (
	"strings"
	"testing"
)

func TestSealSettings(t *testing.T) {
	c, err := ParseFile("agentd.hcl", []byte(`data_dir = "/d"`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seal != (Seal{Backend: "local", TransitMount: "transit", TransitKey: "sirsi"}) {
		t.Fatalf("default seal settings %+v", c.Seal)
	}

	c, err = ParseFile("agentd.hcl", []byte(`
seal {
  backend       = "vault"
  transit_mount = "secrets/transit"
  transit_key   = "agentd"
}
vault {
  address        = "https://vault.example.com:8200"
  approle_role_id   = "r"
  approle_secret_id = "s"
}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seal.Backend != "vault" || c.Seal.TransitMount != "secrets/transit" || c.Seal.TransitKey != "agentd" ||
		c.Vault.Address != "https://vault.example.com:8200" || c.Vault.AppRoleID != "r" || c.Vault.AppRoleMount != "approle" {
		t.Fatalf("parsed %+v %+v", c.Seal, c.Vault)
	}
	if got := c.SourceOf("seal.transit_key").String(); got != "file agentd.hcl:5" {
		t.Fatalf("source of seal.transit_key = %q", got)
	}

	l := Loader{Defaults: Defaults(), Env: envMap(map[string]string{
		"SIRSI_SEAL_BACKEND": "VAULT", "SIRSI_VAULT_ADDR": "http://127.0.0.1:8200", "SIRSI_VAULT_TOKEN": "hvs.x",
	}), Flags: parsedFlags(t, "-seal-transit-key", "k2")}
	c, err = l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Seal.Backend != "vault" || c.Vault.Token != "hvs.x" || c.Seal.TransitKey != "k2" {
		t.Fatalf("env and flags: %+v %+v", c.Seal, c.Vault)
	}
}

func TestSealSettingsRefused(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown backend", `seal { backend = "kms" }`, `seal.backend: "kms" is not one of local, vault (from file x.hcl:1)`},
		{"vault without address", `seal { backend = "vault" }`, `seal.backend: "vault" needs vault.address`},
		{"key file with vault", `
seal {
  backend  = "vault"
  key_file = "/k"
}
vault {
  address = "https://v"
  token   = "t"
}`, `seal.key_file: only applies to seal.backend = "local" (from file x.hcl:4)`},
		{"transit key with local", `seal { transit_key = "k" }`, `seal.transit_key: only applies to seal.backend = "vault"`},
		{"bad transit key", `
seal {
  backend     = "vault"
  transit_key = "a/b"
}
vault {
  address = "https://v"
  token   = "t"
}`, `seal.transit_key: "a/b" must be letters`},
		{"vault settings without address", `vault { token = "t" }`, "vault.address: required when any other vault setting is given"},
		{"vault without auth", `vault { address = "https://v" }`, "vault.address: needs vault.token"},
		{"vault with both auths", `
vault {
  address         = "https://v"
  token           = "t"
  approle_role_id = "r"
}`, "vault.token: cannot be combined"},
		{"half an approle", `
vault {
  address         = "https://v"
  approle_role_id = "r"
}`, "vault.approle_role_id and vault.approle_secret_id go together"},
		{"vault address scheme", `
vault {
  address = "ftp://v"
  token   = "t"
}`, `vault.address: must be an http:// or https:// URL with a host, not scheme "ftp"`},
		{"aws settings are the agent's", `vault { aws_role = "r" }`, `Unsupported argument`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("x.hcl", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
