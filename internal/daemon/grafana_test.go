package daemon

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/discovery"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/monitor"
)

// Every metric the Grafana dashboard queries is one agentd registers: a
// renamed metric would otherwise leave a silently empty panel.
func TestGrafanaDashboardQueriesExistingMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "agentd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/agentd.json: %v", err)
	}
	var exprs []string
	collectExprs(dash, &exprs)
	if len(exprs) < 10 {
		t.Fatalf("only %d queries in the dashboard", len(exprs))
	}
	known := map[string]bool{}
	for _, n := range append(serverMetricNames(t), agentMetricNames(t)...) {
		known[n] = true
	}
	metric := regexp.MustCompile(`\bsirsi_[a-z0-9_]+`)
	for _, e := range exprs {
		names := metric.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("query %q names no sirsi_ metric", e)
		}
		for _, n := range names {
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b := strings.TrimSuffix(n, suffix); b != n && known[b] {
					base = b
				}
			}
			if !known[base] {
				t.Errorf("the dashboard queries %s, which neither registry has (query %q)", n, e)
			}
		}
	}
	if t.Failed() {
		all := make([]string, 0, len(known))
		for n := range known {
			all = append(all, n)
		}
		sort.Strings(all)
		t.Logf("registered: %s", strings.Join(all, " "))
	}
}

func collectExprs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "expr" {
				*out = append(*out, s)
				continue
			}
			collectExprs(c, out)
		}
	case []any:
		for _, c := range x {
			collectExprs(c, out)
		}
	}
}

var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

func describedNames(t *testing.T, c prometheus.Collector) []string {
	t.Helper()
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	var names []string
	for d := range ch {
		if m := descName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

// serverMetricNames is the registry of a real server instance, vectors
// without children included.
func serverMetricNames(t *testing.T) []string {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.GRPCListen, cfg.HTTPListen, cfg.AgentListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	in, err := newInstance(context.Background(), instanceOptions{cfg: &cfg, log: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.close()
	return describedNames(t, in.reg)
}

// agentMetricNames is the agent's own registry plus the registry its
// sweeps build (discovery and monitoring), made as the sweeps make them.
func agentMetricNames(t *testing.T) []string {
	t.Helper()
	root := prometheus.NewRegistry()
	if _, err := agent.New(agent.Config{DataDir: t.TempDir(), Servers: []string{"127.0.0.1:1"}, EnrollToken: "unused", Version: "test",
		AWS: awsclient.Options{Region: "us-east-1"}, Logger: hclog.NewNullLogger(), Registerer: root}); err != nil {
		t.Fatal(err)
	}
	sweeps := prometheus.NewRegistry()
	awsCfg := aws.Config{Region: "us-east-1"}
	if _, err := discovery.New(discovery.Options{Config: awsCfg, AccountID: "123456789012", Regions: []string{"us-east-1"}, Registerer: sweeps}); err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.NewUtilization(monitor.UtilizationOptions{Configs: func(string) aws.Config { return awsCfg }, Registerer: sweeps}); err != nil {
		t.Fatal(err)
	}
	return append(describedNames(t, root), describedNames(t, sweeps)...)
}
