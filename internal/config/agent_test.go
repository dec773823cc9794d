package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgentLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "agent.hcl")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(`
data_dir = "/var/lib/agent"
server   = "cp.example.com:7444"
aws {
  region          = "eu-west-1"
  assume_role_arn = "arn:aws:iam::123456789012:role/sirsi"
  external_id     = "ext-1"
}
schedule {
  discovery = "*/10 * * * *"
  jitter    = "1m"
}
cost_tag_keys = ["team", "env"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte("sxe_secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fl := AgentFlags()
	fl.BindAll(fs, AgentDefaults())
	if err := fs.Parse([]string{"-log-level", "debug", "-enroll-token-file", tokenFile}); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"SIRSI_AWS_REGION": "us-west-2", "SIRSI_LOG_LEVEL": "warn"})
	c, err := AgentLoader{Defaults: AgentDefaults(), File: file, Env: env, Flags: fl}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/agent" || c.Server != "cp.example.com:7444" || c.AWS.Region != "us-west-2" || c.LogLevel != "debug" ||
		c.AWS.ExternalID != "ext-1" || c.Schedule.Discovery != "*/10 * * * *" || c.Schedule.Jitter != time.Minute ||
		c.Schedule.Utilization != "@every 1h" || strings.Join(c.CostTagKeys, ",") != "team,env" || c.EnrollToken != "sxe_secret" {
		t.Errorf("merged config %+v", c)
	}
	if got := c.SourceOf("aws.region").String(); got != "environment variable SIRSI_AWS_REGION" {
		t.Errorf("aws.region source %q", got)
	}
}

func TestAgentErrorsNameTheSetting(t *testing.T) {
	for want, env := range map[string]map[string]string{
		"server":             {"SIRSI_AGENT_SERVER": "no-port"},
		"schedule.discovery": {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_SCHEDULE_DISCOVERY": "every day"},
		"aws.retry_mode":     {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_AWS_RETRY_MODE": "eager"},
		"aws.external_id":    {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_AWS_EXTERNAL_ID": "x1"},
		"vault.aws_role":     {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_VAULT_ADDR": "https://vault:8200"},
		"spool_max_bytes":    {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_SPOOL_MAX_BYTES": "12"},
		"cost_min_interval":  {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_COST_MIN_INTERVAL": "5s"},
	} {
		_, err := AgentLoader{Defaults: AgentDefaults(), Env: envMap(env)}.Load()
		if err == nil || !strings.Contains(err.Error(), want+":") {
			t.Errorf("%v: error %v, want one naming %s", env, err, want)
		}
	}
}
