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
	if c.DataDir != "/var/lib/agent" || strings.Join(c.Servers, ",") != "cp.example.com:7444" || c.AWS.Region != "us-west-2" || c.LogLevel != "debug" ||
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
		"server":                {"SIRSI_AGENT_SERVER": "no-port"},
		"schedule.discovery":    {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_SCHEDULE_DISCOVERY": "every day"},
		"aws.retry_mode":        {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_AWS_RETRY_MODE": "eager"},
		"aws.external_id":       {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_AWS_EXTERNAL_ID": "x1"},
		"vault.aws_role":        {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_VAULT_ADDR": "https://vault:8200"},
		"spool_max_bytes":       {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_SPOOL_MAX_BYTES": "12"},
		"cost_min_interval":     {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_COST_MIN_INTERVAL": "5s"},
		"sweep_health_multiple": {"SIRSI_AGENT_SERVER": "h:1", "SIRSI_SWEEP_HEALTH_MULTIPLE": "0"},
	} {
		_, err := AgentLoader{Defaults: AgentDefaults(), Env: envMap(env)}.Load()
		if err == nil || !strings.Contains(err.Error(), want+":") {
			t.Errorf("%v: error %v, want one naming %s", env, err, want)
		}
	}
}

// TestAgentServers: several control-plane addresses from the file, the
// environment or flags (each later source replacing the list), server as a
// one-address spelling, and bad lists refused naming the setting, the
// entry and the source.
func TestAgentServers(t *testing.T) {
	dir := t.TempDir()
	hcl := func(body string) string {
		f := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".hcl")
		if err := os.WriteFile(f, []byte("data_dir = \"/var/lib/agent\"\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	load := func(file string, env map[string]string, args ...string) (*Agent, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fl := AgentFlags()
		fl.BindAll(fs, AgentDefaults())
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return AgentLoader{Defaults: AgentDefaults(), File: file, Env: envMap(env), Flags: fl}.Load()
	}
	for _, tt := range []struct {
		name string
		file string
		env  map[string]string
		args []string
		want string
	}{
		{"file list", `servers = ["cp-a.example.com:7444", "10.0.0.2:7444"]`, nil, nil, "cp-a.example.com:7444,10.0.0.2:7444"},
		{"file single", `server = "cp.example.com:7444"`, nil, nil, "cp.example.com:7444"},
		{"env replaces file", `servers = ["a.example:1"]`, map[string]string{"SIRSI_AGENT_SERVERS": "b.example:1, c.example:1"}, nil, "b.example:1,c.example:1"},
		{"env server replaces file servers", `servers = ["a.example:1", "b.example:1"]`, map[string]string{"SIRSI_AGENT_SERVER": "c.example:1"}, nil, "c.example:1"},
		{"flag replaces env", "", map[string]string{"SIRSI_AGENT_SERVERS": "b.example:1"}, []string{"-servers", "d.example:1,e.example:1"}, "d.example:1,e.example:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.file != "" {
				file = hcl(tt.file)
			}
			c, err := load(file, tt.env, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Servers, ","); got != tt.want {
				t.Errorf("servers = %s, want %s", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string
	}{
		{"none", "", nil, nil, []string{"servers: required"}},
		{"empty entry in the file", `servers = ["a.example:1", ""]`, nil, nil, []string{"servers: entry 2: empty", ".hcl:2"}},
		{"trailing comma in env", "", map[string]string{"SIRSI_AGENT_SERVERS": "a.example:1,"}, nil, []string{"servers: entry 2: empty", "environment variable SIRSI_AGENT_SERVERS"}},
		{"bad host:port flag", "", nil, []string{"-servers", "a.example:1,b.example"}, []string{"servers: entry 2", `"b.example" is not host:port`, "flag -servers"}},
		{"bad port", "", nil, []string{"-servers", "a.example:99999"}, []string{"servers: entry 1", `port "99999"`}},
		{"duplicate", "", map[string]string{"SIRSI_AGENT_SERVERS": "a.example:1,b.example:1,a.example:1"}, nil, []string{`servers: entry 3 "a.example:1" repeats entry 1`}},
		{"server takes one", "", map[string]string{"SIRSI_AGENT_SERVER": "a.example:1,b.example:1"}, nil, []string{"server:", "server takes one address; list several with servers"}},
		{"server bad, named as server", "", nil, []string{"-server", "no-port"}, []string{"server: entry 1", `"no-port" is not host:port`, "flag -server"}},
		{"both in one source", `server = "a.example:1"` + "\n" + `servers = ["b.example:1"]`, nil, nil, []string{"server (from file", "and servers (from file", "one way"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.file != "" {
				file = hcl(tt.file)
			}
			_, err := load(file, tt.env, tt.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
