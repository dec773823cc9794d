package loadgen

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Sample is one measured run: its result plus the CPU each watched
// process got meanwhile, this process's own (the clients'), and the
// machine's load average sampled during it.
type Sample struct {
	Result
	// Served is how many requests each server (by Client.Target) took.
	Served []int
	// ServerCPU is each server process's CPU during the run; ExtraCPU
	// the database's (PostgreSQL and its backends), when watched.
	ServerCPU []time.Duration
	ExtraCPU  time.Duration
	ClientCPU time.Duration
	Load      []float64
}

// Watch is what Measure reads the CPU of: the servers by pid, and
// optionally a function summing the database's processes.
type Watch struct {
	Servers  []int
	Database func() (time.Duration, error)
}

// loadEvery is how often the load average is read during a run.
const loadEvery = time.Second

// Measure runs the model once, reading the watched processes' CPU time
// just before and after.
func Measure(ctx context.Context, clients []Client, m Model, pageSize int32, w Watch) (Sample, error) {
	before, err := w.cpu()
	if err != nil {
		return Sample{}, err
	}
	var loads []float64 // written by the sampler alone until it is done
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(loadEvery)
		defer t.Stop()
		for {
			if l, err := LoadAverage(); err == nil {
				loads = append(loads, l)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	res, runErr := Run(ctx, clients, m, pageSize)
	close(stop)
	<-sampled
	if runErr != nil {
		return Sample{}, runErr
	}
	after, err := w.cpu()
	if err != nil {
		return Sample{}, err
	}
	n := len(w.Servers)
	s := Sample{Result: res, Load: loads, ExtraCPU: after[n] - before[n], ClientCPU: after[n+1] - before[n+1], Served: make([]int, n)}
	for i := range n {
		s.ServerCPU = append(s.ServerCPU, after[i]-before[i])
	}
	for i, c := range clients {
		if c.Target < n {
			s.Served[c.Target] += res.PerClient[i]
		}
	}
	return s, nil
}

// cpu is each server's CPU time, then the database's (0 when not
// watched), then this process's.
func (w Watch) cpu() ([]time.Duration, error) {
	out := make([]time.Duration, 0, len(w.Servers)+2)
	for _, pid := range w.Servers {
		d, err := ProcessCPU(pid)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	var db time.Duration
	if w.Database != nil {
		var err error
		if db, err = w.Database(); err != nil {
			return nil, err
		}
	}
	self, err := selfCPU()
	if err != nil {
		return nil, err
	}
	return append(out, db, self), nil
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("reading this process's CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Row is one model's figures over its runs.
type Row struct {
	Model   string
	Offered float64
	Runs    int
	// P50 and P99 in ms, Rate in req/s.
	P50, P99, Rate Spread
	// ServerCPU is ms of CPU per request of all servers together (plus the
	// database when watched, in DatabaseCPU alone); ReplicaCPU each
	// server's per request it served; Cores the servers' CPU per wall
	// second; ClientCPU the load generator's per request.
	ServerCPU, DatabaseCPU, Cores, ClientCPU Spread
	ReplicaCPU                               []Spread
	// Load is the lowest and highest one-minute load average seen during
	// the runs, and their median.
	Load Spread
}

// Summarize turns a model's samples into its row.
func Summarize(m Model, clients int, samples []Sample) Row {
	row := Row{Model: m.Name, Offered: m.Offered(clients), Runs: len(samples)}
	var p50, p99, rate, srv, db, cores, cli, load []float64
	var replica [][]float64
	for _, s := range samples {
		lat := append([]time.Duration(nil), s.Latencies...)
		slices.Sort(lat)
		n := float64(len(lat))
		p50 = append(p50, Ms(Percentile(lat, 0.50)))
		p99 = append(p99, Ms(Percentile(lat, 0.99)))
		rate = append(rate, s.Rate())
		var total time.Duration
		for i, c := range s.ServerCPU {
			total += c
			if len(replica) <= i {
				replica = append(replica, nil)
			}
			if s.Served[i] > 0 {
				replica[i] = append(replica[i], Ms(c)/float64(s.Served[i]))
			}
		}
		srv = append(srv, Ms(total)/n)
		db = append(db, Ms(s.ExtraCPU)/n)
		cores = append(cores, total.Seconds()/s.Wall.Seconds())
		cli = append(cli, Ms(s.ClientCPU)/n)
		load = append(load, s.Load...)
	}
	row.P50, row.P99, row.Rate = SpreadOf(p50), SpreadOf(p99), SpreadOf(rate)
	row.ServerCPU, row.DatabaseCPU, row.Cores, row.ClientCPU, row.Load = SpreadOf(srv), SpreadOf(db), SpreadOf(cores), SpreadOf(cli), SpreadOf(load)
	for _, r := range replica {
		row.ReplicaCPU = append(row.ReplicaCPU, SpreadOf(r))
	}
	return row
}

// Markdown is the rows as the table docs/benchmarks.md quotes: medians
// with the lowest and highest run in parentheses.
func Markdown(rows []Row, database bool) string {
	var b strings.Builder
	head := "| model | runs | p50 ms | p99 ms | throughput req/s | server CPU ms/req | server cores got |"
	sep := "| --- | --- | --- | --- | --- | --- | --- |"
	if database {
		head += " PostgreSQL CPU ms/req |"
		sep += " --- |"
	}
	b.WriteString(head + " per replica CPU ms/req | projected req/s per core | client CPU ms/req | load avg |\n")
	b.WriteString(sep + " --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | **%s** | %s | %s | %s |", r.Model, r.Runs, r.P50, r.P99, r.Rate.fmt(0), r.ServerCPU.fmt(2), r.Cores.fmt(2))
		if database {
			fmt.Fprintf(&b, " %s |", r.DatabaseCPU.fmt(2))
		}
		var per []string
		for _, c := range r.ReplicaCPU {
			per = append(per, fmt.Sprintf("%.2f", c.Median))
		}
		// What one core would serve at the measured cost: the servers'
		// CPU, plus the database's, per request.
		cost := r.ServerCPU.Median + r.DatabaseCPU.Median
		projected := "-"
		if cost > 0 {
			projected = fmt.Sprintf("%.0f", 1000/cost)
		}
		fmt.Fprintf(&b, " %s | %s | %s | %.1f-%.1f |\n", strings.Join(per, " / "), projected, r.ClientCPU.fmt(2), r.Load.Min, r.Load.Max)
	}
	return b.String()
}

// String is "median (min-max)" with one decimal.
func (s Spread) String() string { return s.fmt(1) }

func (s Spread) fmt(decimals int) string {
	return fmt.Sprintf("%.*f (%.*f-%.*f)", decimals, s.Median, decimals, s.Min, decimals, s.Max)
}
