package loadgen

import (
	"context"
	"crypto/x509"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

func TestPercentileIsNearestRank(t *testing.T) {
	ms := func(n int) []time.Duration {
		v := make([]time.Duration, n)
		for i := range v {
			v[i] = time.Duration(i+1) * time.Millisecond
		}
		return v
	}
	for _, c := range []struct {
		n    int
		q    float64
		want time.Duration
	}{
		{1000, 0.99, 990 * time.Millisecond},
		{1000, 0.50, 500 * time.Millisecond},
		{100, 0.99, 99 * time.Millisecond},
		{10, 0.99, 10 * time.Millisecond}, // fewer than 100 values: the largest
		{10, 0.50, 5 * time.Millisecond},
		{1, 0.99, time.Millisecond},
		{3000, 0.999, 2997 * time.Millisecond},
	} {
		if got := Percentile(ms(c.n), c.q); got != c.want {
			t.Errorf("Percentile(1..%d ms, %g) = %s, want %s", c.n, c.q, got, c.want)
		}
	}
	if got := Percentile(nil, 0.99); got != 0 {
		t.Errorf("Percentile(nil) = %s, want 0", got)
	}
}

func TestSpreadOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Spread
	}{
		{[]float64{107, 20.7, 46.8}, Spread{Median: 46.8, Min: 20.7, Max: 107}},
		{[]float64{4, 1, 3, 2}, Spread{Median: 2.5, Min: 1, Max: 4}},
		{[]float64{7}, Spread{Median: 7, Min: 7, Max: 7}},
		{nil, Spread{}},
	} {
		in := append([]float64(nil), c.in...)
		if got := SpreadOf(c.in); got != c.want {
			t.Errorf("SpreadOf(%v) = %+v, want %+v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Fatalf("SpreadOf reordered its input: %v, was %v", c.in, in)
			}
		}
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name holding spaces and parentheses; utime 250, stime 50,
	// cutime 7, cstime 3 ticks; ppid 4242.
	line := "1234 (agentd) (x y) S 4242 1234 1234 0 -1 4194560 500 0 0 0 250 50 7 3 20 0 12 0 100 0 0\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 4242 || st.cpu != 3*time.Second || st.children != 100*time.Millisecond {
		t.Errorf("parsed %+v, want ppid 4242, cpu 3s, children 100ms", st)
	}
	for _, bad := range []string{
		"1234 agentd S 1 2 3",                  // no parentheses
		"1234 (agentd) S 1 1234 1234 0 -1 4 5", // too few fields
		"1234 (agentd) S 1 1234 1234 0 -1 4194560 500 0 0 0 -5 50 7 3 20",
		"1234 (agentd) S 1 1234 1234 0 -1 4194560 500 0 0 0 abc 50 7 3 20",
	} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) took it", bad)
		}
	}
}

// TestProcessCPUAgreesWithRusage reads this process's CPU time from
// /proc/self/stat before and after burning CPU and compares each reading
// with getrusage's, an independent account of the same time: a wrong
// tick unit or a wrong field would be off by far more than the two
// readings' 10 ms granularity.
func TestProcessCPUAgreesWithRusage(t *testing.T) {
	rusage := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	check := func() {
		before := rusage()
		got, err := ProcessCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		after := rusage()
		const tolerance = 50 * time.Millisecond
		if got < before-tolerance || got > after+tolerance {
			t.Errorf("/proc says %s of CPU, getrusage %s..%s", got, before, after)
		}
	}
	check()
	for start := rusage(); rusage()-start < 300*time.Millisecond; {
	}
	check()
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tagentd\nVmPeak:\t 2000000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   80000 kB\n"
	if got, err := parseVmHWM([]byte(status)); err != nil || got != 81234*1024 {
		t.Errorf("parseVmHWM = %d, %v; want %d", got, err, 81234*1024)
	}
	for _, bad := range []string{"Name:\tx\n", "VmHWM:\t 12 MB\n", "VmHWM:\t x kB\n"} {
		if _, err := parseVmHWM([]byte(bad)); err == nil {
			t.Errorf("parseVmHWM(%q) took it", bad)
		}
	}
	if rss, err := PeakRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("PeakRSS(self) = %d, %v", rss, err)
	}
}

func TestParseLoadavg(t *testing.T) {
	if got, err := parseLoadavg([]byte("1.52 0.98 0.70 2/345 6789\n")); err != nil || got != 1.52 {
		t.Errorf("parseLoadavg = %v, %v; want 1.52", got, err)
	}
	for _, bad := range []string{"", "x 1 2", "-1 0 0"} {
		if _, err := parseLoadavg([]byte(bad)); err == nil {
			t.Errorf("parseLoadavg(%q) took it", bad)
		}
	}
}

func TestSummarizeSplitsCPUByReplica(t *testing.T) {
	lat := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, m := range ms {
			out = append(out, time.Duration(m)*time.Millisecond)
		}
		return out
	}
	// Two runs of 4 requests over 2 s: replica 0 served 3, replica 1
	// served 1 of each.
	samples := []Sample{
		{Result: Result{Latencies: lat(1, 2, 3, 40), Wall: 2 * time.Second}, Served: []int{3, 1},
			ServerCPU: []time.Duration{30 * time.Millisecond, 10 * time.Millisecond}, ExtraCPU: 8 * time.Millisecond, ClientCPU: 4 * time.Millisecond, Load: []float64{1, 2}},
		{Result: Result{Latencies: lat(5, 6, 7, 80), Wall: 2 * time.Second}, Served: []int{3, 1},
			ServerCPU: []time.Duration{60 * time.Millisecond, 20 * time.Millisecond}, ExtraCPU: 0, ClientCPU: 8 * time.Millisecond, Load: []float64{3}},
	}
	row := Summarize(Open(2, 4, 2*time.Second), 4, samples)
	if row.Offered != 2 || row.Runs != 2 {
		t.Errorf("offered %v runs %d, want 2 and 2", row.Offered, row.Runs)
	}
	if row.P50 != (Spread{Median: 4, Min: 2, Max: 6}) || row.P99 != (Spread{Median: 60, Min: 40, Max: 80}) {
		t.Errorf("p50 %+v p99 %+v", row.P50, row.P99)
	}
	if row.Rate != (Spread{Median: 2, Min: 2, Max: 2}) {
		t.Errorf("rate %+v, want 2 req/s", row.Rate)
	}
	if row.ServerCPU != (Spread{Median: 15, Min: 10, Max: 20}) {
		t.Errorf("server CPU %+v, want 10 and 20 ms per request", row.ServerCPU)
	}
	if len(row.ReplicaCPU) != 2 || row.ReplicaCPU[0] != (Spread{Median: 15, Min: 10, Max: 20}) || row.ReplicaCPU[1] != (Spread{Median: 15, Min: 10, Max: 20}) {
		t.Errorf("per replica %+v, want 10 and 20 ms per request each", row.ReplicaCPU)
	}
	if row.DatabaseCPU != (Spread{Median: 1, Min: 0, Max: 2}) || row.ClientCPU != (Spread{Median: 1.5, Min: 1, Max: 2}) {
		t.Errorf("database %+v client %+v", row.DatabaseCPU, row.ClientCPU)
	}
	if row.Cores != (Spread{Median: 0.03, Min: 0.02, Max: 0.04}) || row.Load != (Spread{Median: 2, Min: 1, Max: 3}) {
		t.Errorf("cores %+v load %+v", row.Cores, row.Load)
	}
}

// TestSeedConnectAndRun seeds through a real control plane's agent
// ingest path, connects clients with tokens of their own, and runs both
// models: every request is counted, every client makes its schedule's
// requests, and walking past the last page starts again at the first.
func TestSeedConnectAndRun(t *testing.T) {
	env := cptest.Start(t, cptest.WithTLS(), cptest.WithAgentService())
	ctx := context.Background()
	const resources, pageSize, clients = 500, 100, 3
	tenantID, err := seedTenant(ctx, env.Client, env.AgentEndpoint, env.CACertPEM, resources)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(env.CACertPEM)
	servers := []*server{{grpcAddr: env.Endpoint}, {grpcAddr: env.Endpoint}}
	cs, closeAll, err := connectClients(ctx, env.Client, tenantID, servers, pool, clients)
	defer closeAll()
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Target != 0 || cs[1].Target != 1 || cs[2].Target != 0 {
		t.Errorf("clients' servers %d %d %d, want 0 1 0", cs[0].Target, cs[1].Target, cs[2].Target)
	}
	tokens, err := pageTokens(ctx, cs[0].API, pageSize, resources)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != resources/pageSize || tokens[0] != "" {
		t.Fatalf("%d page tokens, want %d starting with the first page's", len(tokens), resources/pageSize)
	}
	if _, err := pageTokens(ctx, cs[0].API, pageSize, resources+1); err == nil {
		t.Error("pageTokens took a list one short of what was seeded")
	}
	// Client 2 starts at the last page: its second request wraps around.
	cs[2].Start = tokens[len(tokens)-1]
	res, err := Run(ctx, cs, Closed(clients, 7), pageSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Latencies) != clients*7 || res.PerClient[0] != 7 || res.PerClient[1] != 7 || res.PerClient[2] != 7 {
		t.Errorf("closed: %d latencies, per client %v; want %d, 7 each", len(res.Latencies), res.PerClient, clients*7)
	}
	// Open: every 400 ms for 1 s is 2 or 3 requests by the phase.
	res, err = Run(ctx, cs, Model{Name: "open", Interval: 400 * time.Millisecond, Duration: time.Second}, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, n := range res.PerClient {
		if n < 2 || n > 3 {
			t.Errorf("open: client %d made %d requests, want 2 or 3", i, n)
		}
		total += n
	}
	if total != len(res.Latencies) {
		t.Errorf("open: %d latencies for %d requests", len(res.Latencies), total)
	}
	// A page of another size than asked fails the run: client 2 starts at
	// resource 400 and gets the 100 left when it asks for 101.
	cs[2].Start = tokens[len(tokens)-1]
	if _, err := Run(ctx, cs, Closed(clients, 1), pageSize+1); err == nil {
		t.Error("Run took pages of 100 when it asked for 101")
	}
}
