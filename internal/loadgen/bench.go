package loadgen

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
)

// options are the load generator's flags.
type options struct {
	agentd         string
	store          string
	replicas       int
	resources      int
	clients        int
	pageSize       int
	rates          []float64
	duration       time.Duration
	closedPages    int
	runs           int
	serverEnv      []string
	serverFlags    []string
	label          string
	timeout        time.Duration
	workDir        string
	spreadStarting bool
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.agentd, "agentd", "", "the agentd `binary` to start as the server (required)")
	fs.StringVar(&o.store, "store", "sqlite", "`store` of the servers: sqlite (one server) or postgres (a throwaway cluster, -replicas servers on it)")
	fs.IntVar(&o.replicas, "replicas", 0, "servers on the one PostgreSQL `n` (default 1 on sqlite, 2 on postgres); clients are split evenly")
	fs.IntVar(&o.resources, "resources", 20000, "resources `n` the tenant holds, seeded through the agent ingest path")
	fs.IntVar(&o.clients, "clients", 1000, "gRPC clients `n`, each with its own connection and viewer token")
	fs.IntVar(&o.pageSize, "page-size", 100, "resources per page `n`")
	rates := fs.String("rates", "500,1000", "open-loop offered `rates` in requests per second, comma-separated (empty: none)")
	fs.DurationVar(&o.duration, "duration", 6*time.Second, "`duration` of one open-loop run")
	fs.IntVar(&o.closedPages, "closed-pages", 5, "pages `n` each client reads back to back in one closed-loop run (0: no closed loop)")
	fs.IntVar(&o.runs, "runs", 3, "runs `n` of each model; the figures are their medians with the spread")
	fs.Var((*listFlag)(&o.serverEnv), "server-env", "`KEY=VALUE` in the servers' environment (repeatable), e.g. GOGC=400")
	fs.Var((*listFlag)(&o.serverFlags), "server-flag", "extra `flag` of agentd server (repeatable), e.g. -server-flag=-list-cache-size=off")
	fs.StringVar(&o.label, "label", "", "`text` naming this configuration in the output")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "`duration` bounding the whole benchmark")
	fs.StringVar(&o.workDir, "work-dir", "", "`dir` for the servers' data and logs (default: a temporary one, removed at the end)")
	fs.BoolVar(&o.spreadStarting, "spread-start", true, "start client i at page i (mod the pages) instead of every client at the first page")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, r := range strings.Split(*rates, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || v <= 0 {
			return o, fmt.Errorf("-rates: %q is not a positive number of requests per second", r)
		}
		o.rates = append(o.rates, v)
	}
	if o.replicas == 0 {
		o.replicas = 1
		if o.store == "postgres" {
			o.replicas = 2
		}
	}
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(o.agentd != "", "-agentd: required")
	check(o.store == "sqlite" || o.store == "postgres", "-store: %q is neither sqlite nor postgres", o.store)
	check(o.store == "postgres" || o.replicas == 1, "-replicas: %d servers cannot share a SQLite database; use -store postgres", o.replicas)
	check(o.replicas >= 1 && o.replicas <= 8, "-replicas: %d is not between 1 and 8", o.replicas)
	check(o.clients >= o.replicas && o.clients <= 5000, "-clients: %d is not between -replicas and 5000", o.clients)
	check(o.pageSize >= 1 && o.pageSize <= 1000, "-page-size: %d is not between 1 and 1000", o.pageSize)
	check(o.resources >= o.pageSize && o.resources <= 100000 && o.resources%o.pageSize == 0,
		"-resources: %d must be a multiple of -page-size between it and 100000, so every page is full", o.resources)
	check(o.runs >= 1 && o.runs <= 10, "-runs: %d is not between 1 and 10", o.runs)
	check(o.duration >= time.Second && o.duration <= time.Minute, "-duration: %s is not between 1s and 1m", o.duration)
	check(o.closedPages >= 0 && o.closedPages <= 100, "-closed-pages: %d is not between 0 and 100", o.closedPages)
	check(len(o.rates) > 0 || o.closedPages > 0, "-rates and -closed-pages: no load model left")
	for _, kv := range o.serverEnv {
		check(strings.Contains(kv, "="), "-server-env: %q is not KEY=VALUE", kv)
	}
	return o, errors.Join(errs...)
}

// Main runs the benchmark with command-line args, printing progress to
// stderr and the figures, as a markdown table, to stdout.
func Main(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "loadgen: %v\n", err)
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	return 0
}

func bench(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s loadgen: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	work := o.workDir
	if work == "" {
		if work, err = os.MkdirTemp("", "loadgen-"); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		defer os.RemoveAll(work)
	}
	var (
		watch   Watch
		dbFlags []string
		settle  func(context.Context) error
	)
	if o.store == "postgres" {
		progress("starting a PostgreSQL cluster")
		cluster, err := pgtest.Start(ctx)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, cluster.Stop()) }()
		url, err := cluster.CreateDatabase(ctx)
		if err != nil {
			return err
		}
		pid, err := cluster.PID()
		if err != nil {
			return err
		}
		watch.Database = func() (time.Duration, error) { return ProcessTreeCPU(pid) }
		dbFlags = []string{"-database-url", url}
		// What autovacuum would have done by the time a real tenant has
		// its inventory: without statistics the planner takes the table
		// for a few rows and sorts every row after the page's start.
		settle = func(ctx context.Context) error { return analyze(ctx, url) }
	}
	servers := make([]*server, 0, o.replicas)
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for i := range o.replicas {
		dir := filepath.Join(work, fmt.Sprintf("replica%d", i))
		if i > 0 {
			if err := shareReplicaFiles(servers[0].dataDir, dir); err != nil {
				return err
			}
		}
		s, err := startServer(ctx, o.agentd, dir, filepath.Join(work, fmt.Sprintf("replica%d.log", i)), append(slices.Clone(dbFlags), o.serverFlags...), o.serverEnv)
		if err != nil {
			return err
		}
		servers = append(servers, s)
		watch.Servers = append(watch.Servers, s.pid())
		progress("agentd server %d (pid %d) on %s, agents on %s", i, s.pid(), s.grpcAddr, s.agentAddr)
	}
	caPEM, err := os.ReadFile(servers[0].caCert)
	if err != nil {
		return fmt.Errorf("reading the servers' CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no PEM certificate", servers[0].caCert)
	}
	opTok, err := operatorToken(servers[0].dataDir)
	if err != nil {
		return err
	}
	op, closeOp, err := dial(servers[0].grpcAddr, pool, opTok, nil)
	if err != nil {
		return err
	}
	defer closeOp()

	progress("seeding %d resources through the agent ingest path", o.resources)
	t := time.Now()
	tenantID, err := seedTenant(ctx, op, servers[0].agentAddr, caPEM, o.resources)
	if err != nil {
		return err
	}
	progress("seeded in %s", time.Since(t).Round(time.Millisecond))
	if settle != nil {
		if err := settle(ctx); err != nil {
			return err
		}
	}

	progress("creating %d viewer tokens and connecting", o.clients)
	clients, closeClients, err := connectClients(ctx, op, tenantID, servers, pool, o.clients)
	defer closeClients()
	if err != nil {
		return err
	}
	starts, err := pageTokens(ctx, clients[0].API, int32(o.pageSize), o.resources)
	if err != nil {
		return err
	}
	if o.spreadStarting {
		for i := range clients {
			clients[i].Start = starts[i%len(starts)]
		}
	}
	// One unmeasured pass, every client reading one page: connections
	// warm, caches filled as a running server's are.
	if _, err := Run(ctx, clients, Closed(len(clients), 1), int32(o.pageSize)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	var models []Model
	for _, r := range o.rates {
		models = append(models, Open(r, o.clients, o.duration))
	}
	if o.closedPages > 0 {
		models = append(models, Closed(o.clients, o.closedPages))
	}
	var rows []Row
	for _, m := range models {
		var samples []Sample
		for run := range o.runs {
			s, err := Measure(ctx, clients, m, int32(o.pageSize), watch)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", m.Name, run+1, err)
			}
			lat := slices.Clone(s.Latencies)
			slices.Sort(lat)
			progress("%s, run %d: %d requests, p50 %.1f ms, p99 %.1f ms, %.0f req/s", m.Name, run+1, len(lat), Ms(Percentile(lat, 0.5)), Ms(Percentile(lat, 0.99)), s.Rate())
			samples = append(samples, s)
		}
		rows = append(rows, Summarize(m, o.clients, samples))
	}

	fmt.Fprintf(stdout, "ListResources from a separate client process: %s, %d server(s), %d resources, %d clients, %d-item pages, %d runs per model%s\n",
		o.store, o.replicas, o.resources, o.clients, o.pageSize, o.runs, labelSuffix(o))
	fmt.Fprintf(stdout, "machine: %d cores, %s; figures are medians (lowest-highest run)\n\n", runtime.NumCPU(), runtime.Version())
	fmt.Fprint(stdout, Markdown(rows, watch.Database != nil))
	var peaks []string
	for _, s := range servers {
		rss, err := PeakRSS(s.pid())
		if err != nil {
			return err
		}
		peaks = append(peaks, fmt.Sprintf("%d MiB", rss>>20))
	}
	fmt.Fprintf(stdout, "\nserver peak resident memory: %s\n", strings.Join(peaks, " / "))
	return nil
}
