package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parsedFlags(t *testing.T, args ...string) *Flags[*Server] {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fl := ServerFlags()
	fl.BindAll(fs, Defaults())
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fl
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "agentd.hcl", `
data_dir    = "/from/file"
log_level   = "debug"
log_format  = "json"
http_listen = "127.0.0.1:9001"
agent_stale_after = "5m"
server_names = ["a.example", "10.0.0.1"]
tls {
  client_ca_file = "`+writeFile(t, "ca.pem", "x")+`"
}
`)
	plainFile := writeFile(t, "plain.hcl", "http_listen = \"127.0.0.1:9001\"\nlog_level = \"debug\"\n")
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags []string
		check func(t *testing.T, c *Server)
	}{
		{
			name:  "defaults only",
			flags: []string{"-data-dir", "/d"},
			check: func(t *testing.T, c *Server) {
				want := Defaults()
				if c.LogLevel != want.LogLevel || c.GRPCListen != want.GRPCListen || c.AgentStaleAfter != want.AgentStaleAfter {
					t.Errorf("got %+v, want defaults %+v", c, want)
				}
				if got := c.SourceOf("log_level"); got.Kind != FromDefault {
					t.Errorf("log_level source = %v, want default", got)
				}
			},
		},
		{
			name: "file over defaults",
			file: file,
			check: func(t *testing.T, c *Server) {
				if c.DataDir != "/from/file" || c.LogLevel != "debug" || c.LogFormat != "json" || c.HTTPListen != "127.0.0.1:9001" {
					t.Errorf("file values not applied: %+v", c)
				}
				if c.AgentStaleAfter != 5*time.Minute {
					t.Errorf("agent_stale_after = %s, want 5m", c.AgentStaleAfter)
				}
				if strings.Join(c.ServerNames, ",") != "a.example,10.0.0.1" {
					t.Errorf("server_names = %v", c.ServerNames)
				}
				if c.TLS.ClientCAFile == "" {
					t.Error("tls block not applied")
				}
				if got, want := c.SourceOf("log_level").String(), "file "+file+":3"; got != want {
					t.Errorf("log_level source = %q, want %q", got, want)
				}
			},
		},
		{
			name: "env over file",
			file: file,
			env:  map[string]string{"SIRSI_LOG_LEVEL": "warn", "SIRSI_DATA_DIR": "/from/env", "SIRSI_LOG_FORMAT": ""},
			check: func(t *testing.T, c *Server) {
				if c.LogLevel != "warn" || c.DataDir != "/from/env" {
					t.Errorf("env not applied: level %q dir %q", c.LogLevel, c.DataDir)
				}
				if c.LogFormat != "json" {
					t.Errorf("empty env var overrode the file: log_format = %q", c.LogFormat)
				}
				if got := c.SourceOf("log_level").String(); got != "environment variable SIRSI_LOG_LEVEL" {
					t.Errorf("source = %q", got)
				}
			},
		},
		{
			name:  "flags over env",
			file:  plainFile,
			env:   map[string]string{"SIRSI_LOG_LEVEL": "warn", "SIRSI_INSECURE": "false"},
			flags: []string{"-log-level", "error", "-insecure", "-listen", "127.0.0.1:0"},
			check: func(t *testing.T, c *Server) {
				if c.LogLevel != "error" || !c.Insecure || c.GRPCListen != "127.0.0.1:0" {
					t.Errorf("flags not applied: %+v", c)
				}
				if c.HTTPListen != "127.0.0.1:9001" {
					t.Errorf("an unset flag overrode the file: http_listen = %q", c.HTTPListen)
				}
				if got := c.SourceOf("insecure").String(); got != "flag -insecure" {
					t.Errorf("source = %q", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env func(string) (string, bool)
			if tt.env != nil {
				env = envMap(tt.env)
			}
			c, err := Loader{Defaults: Defaults(), File: tt.file, Env: env, Flags: parsedFlags(t, tt.flags...)}.Load()
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrorsNameFieldAndSource(t *testing.T) {
	cert := writeFile(t, "c.pem", "x")
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags []string
		want  []string
	}{
		{
			name: "unknown attribute names file and line",
			file: "data_dir = \"/d\"\n\nlog_lvl = \"info\"\n",
			want: []string{"agentd.hcl:3", "log_lvl"},
		},
		{
			name: "unknown block",
			file: "listener {\n}\n",
			want: []string{"agentd.hcl:1", "listener"},
		},
		{
			name: "unknown attribute in tls block",
			file: "tls {\n  cert = \"x\"\n}\n",
			want: []string{"agentd.hcl:2", "cert"},
		},
		{
			name: "duplicate tls block",
			file: "tls {\n}\ntls {\n}\n",
			want: []string{"agentd.hcl:3", "duplicate", "agentd.hcl:1"},
		},
		{
			name: "syntax error",
			file: "data_dir = \n",
			want: []string{"agentd.hcl:1"},
		},
		{
			name: "variables are not allowed",
			file: "data_dir = var.x\n",
			want: []string{"data_dir", "agentd.hcl:1"},
		},
		{
			name: "wrong type in file",
			file: "log_level = { a = 1 }\n",
			want: []string{"log_level", "must be a string", "agentd.hcl:1"},
		},
		{
			name: "bad level from file",
			file: "log_level = \"loud\"\n",
			want: []string{"log_level", `"loud" is not one of`, "agentd.hcl:1"},
		},
		{
			name: "bad level from env",
			env:  map[string]string{"SIRSI_LOG_LEVEL": "loud"},
			want: []string{"log_level", "environment variable SIRSI_LOG_LEVEL"},
		},
		{
			name:  "bad format from flag",
			flags: []string{"-log-format", "xml"},
			want:  []string{"log_format", "flag -log-format"},
		},
		{
			name: "list cache too small",
			env:  map[string]string{"SIRSI_LIST_CACHE_SIZE": "1MiB"},
			want: []string{"list_cache_size", "environment variable SIRSI_LIST_CACHE_SIZE", "minimum of 32MiB"},
		},
		{
			name:  "bad duration",
			flags: []string{"-agent-stale-after", "soon"},
			want:  []string{"agent_stale_after", "not a duration", "flag -agent-stale-after"},
		},
		{
			name: "non-positive duration",
			env:  map[string]string{"SIRSI_SHUTDOWN_TIMEOUT": "0s"},
			want: []string{"shutdown_timeout", "must be positive", "SIRSI_SHUTDOWN_TIMEOUT"},
		},
		{
			name:  "bad listen address",
			flags: []string{"-listen", "localhost"},
			want:  []string{"grpc_listen", "not host:port", "flag -listen"},
		},
		{
			name:  "bad port",
			flags: []string{"-http-listen", "127.0.0.1:99999"},
			want:  []string{"http_listen", "port", "flag -http-listen"},
		},
		{
			name:  "empty grpc listen",
			flags: []string{"-listen", ""},
			want:  []string{"grpc_listen", "must not be empty"},
		},
		{
			name: "bad boolean",
			env:  map[string]string{"SIRSI_INSECURE": "maybe"},
			want: []string{"insecure", "not a boolean", "SIRSI_INSECURE"},
		},
		{
			name:  "database url scheme, password not echoed",
			flags: []string{"-database-url", "mysql://u:s3cret@h/db"},
			want:  []string{"database_url", "scheme must be postgres", "flag -database-url"},
		},
		{
			name:  "cert without key",
			flags: []string{"-tls-cert-file", cert},
			want:  []string{"tls.cert_file", "needs tls.key_file", "flag -tls-cert-file"},
		},
		{
			name:  "unreadable cert",
			flags: []string{"-tls-cert-file", "/nonexistent/c.pem", "-tls-key-file", cert},
			want:  []string{"tls.cert_file", "cannot be read"},
		},
		{
			name:  "insecure with tls",
			flags: []string{"-insecure", "-tls-cert-file", cert, "-tls-key-file", cert},
			want:  []string{"insecure", "cannot be combined"},
		},
		{
			name: "short operator token",
			env:  map[string]string{"SIRSI_OPERATOR_TOKEN": "short"},
			want: []string{"operator_token", "at least 16", "SIRSI_OPERATOR_TOKEN"},
		},
		{
			name:  "token twice",
			flags: []string{"-operator-token", "0123456789abcdef", "-operator-token-file", cert},
			want:  []string{"operator_token_file", "cannot be combined"},
		},
		{
			name:  "token file too short",
			flags: []string{"-operator-token-file", cert},
			want:  []string{"operator_token_file", "at least 16"},
		},
		{
			name:  "bad trust domain",
			flags: []string{"-trust-domain", "Not A Domain"},
			want:  []string{"trust_domain", "DNS name"},
		},
		{
			name: "bad server name",
			file: "server_names = [\"ok.example\", \"bad name\"]\n",
			want: []string{"server_names", `"bad name"`, "agentd.hcl:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Loader{Defaults: Defaults(), Flags: parsedFlags(t, tt.flags...)}
			if tt.file != "" {
				l.File = filepath.Join(t.TempDir(), "agentd.hcl")
				if err := os.WriteFile(l.File, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.env != nil {
				l.Env = envMap(tt.env)
			}
			_, err := l.Load()
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the database password: %q", err)
			}
		})
	}
}

func TestOperatorTokenFile(t *testing.T) {
	p := writeFile(t, "tok", "  0123456789abcdefXYZ\n")
	c, err := Loader{Defaults: Defaults(), Flags: parsedFlags(t, "-operator-token-file", p)}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.OperatorToken != "0123456789abcdefXYZ" {
		t.Errorf("OperatorToken = %q", c.OperatorToken)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Loader{Defaults: Defaults(), File: "/nonexistent/agentd.hcl"}.Load()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/agentd.hcl") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestDataDirMadeAbsolute(t *testing.T) {
	c, err := Loader{Defaults: Defaults(), Flags: parsedFlags(t, "-data-dir", "rel/dir")}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.DataDir) || !strings.HasSuffix(c.DataDir, "rel/dir") {
		t.Errorf("DataDir = %q", c.DataDir)
	}
}

func TestCustomFlagName(t *testing.T) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fl := ServerFlags()
	fl.Bind(fs, "operator_token", "dev-token", "known dev token")
	if err := fs.Parse([]string{"-dev-token", "dev-token-0123456789"}); err != nil {
		t.Fatal(err)
	}
	c, err := Loader{Defaults: Defaults(), Flags: fl}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.OperatorToken != "dev-token-0123456789" || c.SourceOf("operator_token").Name != "-dev-token" {
		t.Errorf("token %q from %v", c.OperatorToken, c.SourceOf("operator_token"))
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("data_dir = \"/d\"\nlog_level = \"info\"\ntls {\n  cert_file = \"x\"\n}\n"))
	f.Add([]byte("server_names = [\"a\", 1, true]\nagent_stale_after = \"5m\"\n"))
	f.Add([]byte("insecure = true\nlisten {}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := ParseFile("fuzz.hcl", src)
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

func TestFieldsTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range fields {
		if f.env == "" || f.flag == "" || f.usage == "" || f.set == nil {
			t.Errorf("setting %q lacks an environment variable, flag, usage or parser", f.name)
		}
		if !strings.HasPrefix(f.env, "SIRSI_") {
			t.Errorf("setting %q: environment variable %q lacks the SIRSI_ prefix", f.name, f.env)
		}
		for _, k := range []string{"name:" + f.name, "env:" + f.env, "flag:" + f.flag} {
			if seen[k] {
				t.Errorf("duplicate %s", k)
			}
			seen[k] = true
		}
	}
}

// SIRSI_INSECURE meant "serve plaintext" here and "do not verify" in the
// provider; the server's meaning is SIRSI_PLAINTEXT now, and the old name
// still works, with a deprecation the daemon logs.
func TestPlaintextEnvAndDeprecatedAlias(t *testing.T) {
	for _, tc := range []struct {
		env        map[string]string
		want       bool
		source     string
		deprecated bool
	}{
		{map[string]string{"SIRSI_PLAINTEXT": "true"}, true, "environment variable SIRSI_PLAINTEXT", false},
		{map[string]string{"SIRSI_INSECURE": "true"}, true, "environment variable SIRSI_INSECURE", true},
		{map[string]string{"SIRSI_PLAINTEXT": "false", "SIRSI_INSECURE": "true"}, false, "environment variable SIRSI_PLAINTEXT", false},
		{map[string]string{}, false, "default", false},
	} {
		c, err := Loader{Defaults: Defaults(), Env: envMap(tc.env)}.Load()
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if c.Insecure != tc.want || c.SourceOf("insecure").String() != tc.source {
			t.Errorf("%v: insecure %t from %s, want %t from %s", tc.env, c.Insecure, c.SourceOf("insecure"), tc.want, tc.source)
		}
		d := c.Deprecations()
		if tc.deprecated != (len(d) == 1 && strings.Contains(d[0], "SIRSI_INSECURE is deprecated: set SIRSI_PLAINTEXT")) || !tc.deprecated && len(d) > 0 {
			t.Errorf("%v: deprecations %q", tc.env, d)
		}
	}
}
