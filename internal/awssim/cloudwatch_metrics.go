package awssim

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metricRetention is how far back CloudWatch keeps data: 15 months (455
// days, at one-hour resolution past 63 days; the simulator keeps the raw
// points throughout, which only ever gives more precise answers).
const metricRetention = 455 * 24 * time.Hour

// metricKey identifies a metric: namespace, name and its exact dimension
// set, as CloudWatch matches them (no partial dimension matches).
type metricKey struct {
	namespace, name, dims string
}

func newMetricKey(namespace, name string, dims []cwDimension) metricKey {
	return metricKey{namespace: namespace, name: name, dims: string(appendDimsKey(nil, dims))}
}

// appendDimsKey appends the dimensions sorted by name, each as
// name NUL value NUL.
func appendDimsKey(b []byte, dims []cwDimension) []byte {
	if len(dims) > 1 {
		dims = slices.Clone(dims)
		sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	}
	for _, d := range dims {
		b = append(append(append(append(b, d.Name...), 0), d.Value...), 0)
	}
	return b
}

// customSeries is a metric stored by PutMetricData.
type customSeries struct {
	unit    string
	samples []sample // sorted by t
}

// cwState is one account-region's custom metrics. Guarded by Sim.mu.
type cwState struct {
	series map[metricKey]*customSeries
}

func newCWState() *cwState { return &cwState{series: map[metricKey]*customSeries{}} }

func (st *cwState) put(k metricKey, unit string, smp []sample, now time.Time) {
	cs, ok := st.series[k]
	if !ok {
		cs = &customSeries{unit: unit}
		st.series[k] = cs
	}
	if unit != "" && unit != "None" {
		cs.unit = unit
	}
	cs.samples = append(cs.samples, smp...)
	slices.SortStableFunc(cs.samples, func(a, b sample) int { return compareInt64(a.t, b.t) })
	cutoff := now.Add(-metricRetention).Unix()
	i := sort.Search(len(cs.samples), func(i int) bool { return cs.samples[i].t >= cutoff })
	cs.samples = slices.Delete(cs.samples, 0, i)
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// builtinMetric describes a metric AWS publishes for a resource.
type builtinMetric struct {
	unit string
	// resolution is the spacing of raw points: 5 minutes for EC2 basic
	// monitoring, 1 minute for RDS and Lambda.
	resolution int64
	// value is the raw point for the slot starting at t.
	value func(r *builtinResource, t int64) float64
}

// builtinNamespace is a service whose resources publish metrics by one
// dimension.
type builtinNamespace struct {
	service, resourceType, dimension string
	metrics                          map[string]builtinMetric
}

var builtinNamespaces = map[string]builtinNamespace{
	"AWS/EC2": {service: "ec2", resourceType: "instance", dimension: "InstanceId", metrics: map[string]builtinMetric{
		"CPUUtilization": {unit: "Percent", resolution: 300, value: func(r *builtinResource, t int64) float64 {
			var sum float64
			for m := range int64(5) {
				sum += r.profile.CPUAt(r.seed, time.Unix(t+60*m, 0))
			}
			return sum / 5
		}},
		"NetworkIn": {unit: "Bytes", resolution: 300, value: func(r *builtinResource, t int64) float64 {
			var sum float64
			for m := range int64(5) {
				in, _ := r.profile.NetworkAt(r.seed, time.Unix(t+60*m, 0))
				sum += in
			}
			return math.Round(sum)
		}},
		"NetworkOut": {unit: "Bytes", resolution: 300, value: func(r *builtinResource, t int64) float64 {
			var sum float64
			for m := range int64(5) {
				_, out := r.profile.NetworkAt(r.seed, time.Unix(t+60*m, 0))
				sum += out
			}
			return math.Round(sum)
		}},
	}},
	"AWS/RDS": {service: "rds", resourceType: "db-instance", dimension: "DBInstanceIdentifier", metrics: map[string]builtinMetric{
		"CPUUtilization": {unit: "Percent", resolution: 60, value: dbCPU},
		// Connections follow load: about one per 2 % CPU.
		"DatabaseConnections": {unit: "Count", resolution: 60, value: func(r *builtinResource, t int64) float64 {
			return math.Round(dbCPU(r, t) / 2)
		}},
		// The buffer pool takes a quarter of memory; the rest is used in
		// proportion to load.
		"FreeableMemory": {unit: "Bytes", resolution: 60, value: func(r *builtinResource, t int64) float64 {
			cpu := r.profile.CPUAt(r.seed, time.Unix(t, 0))
			return math.Round(r.memoryBytes * 0.75 * (1 - 0.6*cpu/100))
		}},
	}},
	"AWS/Lambda": {service: "lambda", resourceType: "function", dimension: "FunctionName", metrics: map[string]builtinMetric{
		// The profile's load drives invocations: ~2 per minute per % of load.
		"Invocations": {unit: "Count", resolution: 60, value: functionInvocations},
		// A healthy function does not fail; one degraded at its memory
		// size (Sim.DegradeAtSize) fails every invocation.
		"Errors": {unit: "Count", resolution: 60, value: func(r *builtinResource, t int64) float64 {
			if r.degradedAt(t) {
				return functionInvocations(r, t)
			}
			return 0
		}},
		// Busy functions run longer (contention downstream).
		"Duration": {unit: "Milliseconds", resolution: 60, value: func(r *builtinResource, t int64) float64 {
			return math.Round(100*(20+3*r.profile.CPUAt(r.seed, time.Unix(t, 0)))) / 100
		}},
	}},
	// Lambda Insights publishes per-function memory use under its own
	// namespace and lower-case names. In AWS only functions with the
	// Insights extension layer publish it; the simulator publishes it for
	// every function so memory right-sizing can be exercised.
	"LambdaInsights": {service: "lambda", resourceType: "function", dimension: "function_name", metrics: map[string]builtinMetric{
		// A fifth of the configured memory is the runtime's floor; the
		// rest follows load.
		"memory_utilization": {unit: "Percent", resolution: 60, value: func(r *builtinResource, t int64) float64 {
			return math.Round(100*(20+0.5*r.profile.CPUAt(r.seed, time.Unix(t, 0)))) / 100
		}},
	}},
}

// dbCPU is a DB instance's CPU: its profile's, or pinned at 100 % while
// it is degraded at its class.
func dbCPU(r *builtinResource, t int64) float64 {
	if r.degradedAt(t) {
		return 100
	}
	return r.profile.CPUAt(r.seed, time.Unix(t, 0))
}

// functionInvocations: the profile's load drives invocations, ~2 per
// minute per % of load.
func functionInvocations(r *builtinResource, t int64) float64 {
	return math.Round(2 * r.profile.CPUAt(r.seed, time.Unix(t, 0)))
}

// builtinResource is what metric generation needs to know about one
// resource: its utilisation profile and when it was running.
type builtinResource struct {
	profile     Profile
	seed        int64
	memoryBytes float64
	// running holds [start, end) Unix-second intervals, ascending; end is
	// math.MaxInt64 while the resource still runs.
	running [][2]int64
	// degraded holds the intervals, in the same form, in which the
	// resource had the size Sim.DegradeAtSize named; degradedKey encodes
	// them for the caches' keys.
	degraded    [][2]int64
	degradedKey string
}

// degradedAt says whether the resource was degraded at t.
func (r *builtinResource) degradedAt(t int64) bool {
	for _, iv := range r.degraded {
		if t >= iv[0] && t < iv[1] {
			return true
		}
	}
	return false
}

// eventSize is the size Sim.DegradeAtSize compares: a DB instance's class,
// a function's memory in MB.
func eventSize(e Event) string {
	switch e.Service {
	case "rds":
		return e.Type
	case "lambda":
		return strconv.Itoa(e.MemoryMiB)
	}
	return ""
}

// intervalsKey encodes intervals for a cache key.
func intervalsKey(ivs [][2]int64) string {
	b := make([]byte, 0, 16*len(ivs))
	for _, iv := range ivs {
		b = binary.LittleEndian.AppendUint64(b, uint64(iv[0]))
		b = binary.LittleEndian.AppendUint64(b, uint64(iv[1]))
	}
	return string(b)
}

// runningState says whether a resource in this state produces metrics.
func runningState(service, state string) bool {
	switch service {
	case "ec2":
		return state == "running"
	case "rds":
		switch state {
		case "creating", "starting", "stopping", "stopped", "deleting", "deleted", "failed":
			return false
		}
		return true
	}
	// A Lambda function can be invoked from creation until deletion.
	return true
}

// builtinResources reads the account's history for the resources of
// namespace ns named in ids (dimension values) and returns their running
// intervals. Caller holds s.mu.
func (s *Sim) builtinResources(account, region string, ns builtinNamespace, ids map[string]bool) map[string]*builtinResource {
	out := make(map[string]*builtinResource, len(ids))
	a, ok := s.accounts[account]
	if !ok || len(ids) == 0 {
		return out
	}
	byID := make(map[string][]Event, len(ids))
	for id := range ids {
		for _, i := range a.historyOf(resourceRef{region: region, service: ns.service, resourceType: ns.resourceType, id: id}) {
			byID[id] = append(byID[id], a.History[i])
		}
	}
	cat, catErr := s.prices()
	for id, evs := range byID {
		slices.SortStableFunc(evs, func(x, y Event) int { return x.Time.Compare(y.Time) })
		r := &builtinResource{seed: resourceSeed(s.opts.Seed, evs[0].ResourceID)}
		open := int64(-1)
		badSize := s.faults.degradedSize(ns.service, id)
		degradedFrom := int64(-1)
		for _, e := range evs {
			// Degraded intervals follow the size from event to event.
			bad := badSize != "" && e.Kind != EventDeleted && eventSize(e) == badSize
			switch at := e.Time.Unix(); {
			case bad && degradedFrom < 0:
				degradedFrom = at
			case !bad && degradedFrom >= 0:
				r.degraded = append(r.degraded, [2]int64{degradedFrom, at})
				degradedFrom = -1
			}
			r.profile = e.Profile
			if ns.service == "rds" && catErr == nil {
				if spec, ok := cat.InstanceType(e.Type); ok {
					r.memoryBytes = spec.MemoryGiB * (1 << 30)
				}
			}
			run := e.Kind != EventDeleted && runningState(ns.service, e.State)
			at := e.Time.Unix()
			switch {
			case run && open < 0:
				open = at
			case !run && open >= 0:
				if at > open {
					r.running = append(r.running, [2]int64{open, at})
				}
				open = -1
			}
		}
		if open >= 0 {
			r.running = append(r.running, [2]int64{open, math.MaxInt64})
		}
		if degradedFrom >= 0 {
			r.degraded = append(r.degraded, [2]int64{degradedFrom, math.MaxInt64})
		}
		r.degradedKey = intervalsKey(r.degraded)
		out[id] = r
	}
	return out
}

// resourceRef names one resource's events in an account's history, as
// CloudWatch knows the resource.
type resourceRef struct {
	region, service, resourceType, id string
}

// historyIndex maps resources to the positions of their events in
// Account.History, in recording order. It covers History[:indexed] and is
// extended on read, so events appended by any means are seen; a history
// shorter than indexed (replaced wholesale) is indexed afresh.
type historyIndex struct {
	indexed int
	m       map[resourceRef][]int
}

// historyOf returns the positions of r's events in a.History, in recording
// order: GetMetricData reads a few hundred resources' events per call from
// histories of many thousands. Caller holds s.mu.
func (a *Account) historyOf(r resourceRef) []int {
	x := &a.byResource
	if x.m == nil || x.indexed > len(a.History) {
		x.m, x.indexed = map[resourceRef][]int{}, 0
	}
	for ; x.indexed < len(a.History); x.indexed++ {
		e := &a.History[x.indexed]
		id := e.ResourceID
		if e.Service == "lambda" {
			// Functions are recorded by name or ARN; CloudWatch knows them by name.
			if i := strings.LastIndex(id, ":function:"); i >= 0 {
				id = id[i+len(":function:"):]
			}
		}
		k := resourceRef{region: e.Region, service: e.Service, resourceType: e.ResourceType, id: id}
		x.m[k] = append(x.m[k], x.indexed)
	}
	return x.m[r]
}

// blockSeconds is the span of a cached block of builtin points: one UTC
// day, the period agents ask for most and a divisor of every longer one
// that starts at midnight.
const blockSeconds = 86400

// dayBlock is one UTC day of a builtin metric's raw points, in time order
// and sorted, with their sum: what aggregation needs without regenerating
// 288 (or 1,440) points per query.
type dayBlock struct {
	id     blockID
	day    int64
	byTime []float64
	sorted []float64
	// sum, min and max sit beside the slices so a block that only feeds
	// standard statistics is read without touching its values.
	sum, min, max float64
}

// blockID is everything a block's values depend on; blocks are pure
// functions of it, so one cache serves every Sim.
type blockID struct {
	metric      string
	profile     Profile
	seed        int64
	memoryBytes float64
	// degraded is builtinResource.degradedKey: "" for nearly every
	// resource.
	degraded string
}

// blockKey is the cache key: a hash of the blockID (cheap to compare; the
// block keeps its full id so a hash collision is detected) and the day.
type blockKey struct {
	hash uint64
	day  int64
}

func (id blockID) hash() uint64 {
	h := fnv.New64a()
	for _, part := range []string{id.metric, string(id.profile), strconv.FormatInt(id.seed, 10), strconv.FormatFloat(id.memoryBytes, 'g', -1, 64), id.degraded} {
		_, _ = h.Write([]byte(part))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// blockCacheValues bounds the cache (in points; 8 bytes each). When it is
// full the cache starts over, which only costs regeneration.
const blockCacheValues = 8 << 20

var blockCache = struct {
	sync.RWMutex
	m      map[blockKey]*dayBlock
	values int
}{m: map[blockKey]*dayBlock{}}

// block returns the day starting at t (a multiple of blockSeconds).
func (sr *series) block(t int64) *dayBlock {
	if sr.id == nil {
		sr.id = &blockID{metric: sr.name, profile: sr.builtin.profile, seed: sr.builtin.seed, memoryBytes: sr.builtin.memoryBytes, degraded: sr.builtin.degradedKey}
		sr.idHash = sr.id.hash()
	}
	k := blockKey{hash: sr.idHash, day: t}
	blockCache.RLock()
	b, ok := blockCache.m[k]
	blockCache.RUnlock()
	if ok && b.id == *sr.id {
		return b
	}
	res := sr.metric.resolution
	b = &dayBlock{id: *sr.id, day: t, byTime: make([]float64, 0, blockSeconds/res)}
	for x := t; x < t+blockSeconds; x += res {
		v := sr.metric.value(sr.builtin, x)
		b.byTime = append(b.byTime, v)
		b.sum += v
	}
	b.sorted = slices.Clone(b.byTime)
	slices.Sort(b.sorted)
	b.min, b.max = b.sorted[0], b.sorted[len(b.sorted)-1]
	blockCache.Lock()
	if blockCache.values+2*len(b.sorted) > blockCacheValues {
		blockCache.m, blockCache.values = map[blockKey]*dayBlock{}, 0
	}
	blockCache.m[k] = b
	blockCache.values += 2 * len(b.sorted)
	blockCache.Unlock()
	return b
}

// series is the data source of one query: a builtin resource metric or a
// custom series.
type series struct {
	builtin *builtinResource
	metric  builtinMetric
	// name is the builtin metric's namespace/name, part of its block ids.
	name   string
	id     *blockID
	idHash uint64
	custom []sample
	unit   string
}

// answerKey is everything a builtin series' answer depends on once its
// window lies wholly in the past: the block id (metric, profile, seed,
// memory), the running intervals from the history, the window, the period
// and the statistic. A new state event changes the intervals and so the key;
// custom series are never memoised (PutMetricData adds to them).
type answerKey struct {
	id                 blockID
	running            string
	start, end, period int64
	st                 statistic
}

type answer struct {
	ts   []int64
	vals []float64
}

// answerCacheBytes bounds the memo of answers: 16 bytes a datapoint and
// answerOverhead for the key and map slot of each answer. When it is full it
// starts over, which only costs recomputation.
const (
	answerCacheBytes = 64 << 20
	answerOverhead   = 256
)

var answerCache = struct {
	sync.RWMutex
	m     map[answerKey]answer
	bytes int
}{m: map[answerKey]answer{}}

// answer returns the datapoints of st over [start, end) in buckets of
// period seconds, in ascending time. An agent asks for the same closed
// windows (the last 14 whole days) of the same fleet over and over, so a
// builtin series' answer over a window that ended at least one resolution
// step before now is memoised: aggregate's result no longer depends on now
// then. The slices may be shared: callers must not modify them.
func (sr *series) answer(start, end, period, now int64, st statistic, agg *aggregator) ([]int64, []float64) {
	compute := func() ([]int64, []float64) {
		// Room for every bucket, up to a day of minutes; longer answers
		// grow as needed.
		n := min((end-start+period-1)/period, 1440)
		ts, vals := make([]int64, 0, n), make([]float64, 0, n)
		sr.aggregate(start, end, period, now, st, agg, func(t int64, v float64) {
			ts = append(ts, t)
			vals = append(vals, v)
		})
		return ts, vals
	}
	if sr.builtin == nil || now < end+sr.metric.resolution {
		return compute()
	}
	k := answerKey{
		id: blockID{metric: sr.name, profile: sr.builtin.profile, seed: sr.builtin.seed, memoryBytes: sr.builtin.memoryBytes,
			degraded: sr.builtin.degradedKey},
		running: intervalsKey(sr.builtin.running), start: start, end: end, period: period, st: st,
	}
	answerCache.RLock()
	a, ok := answerCache.m[k]
	answerCache.RUnlock()
	if ok {
		return a.ts, a.vals
	}
	ts, vals := compute()
	answerCache.Lock()
	size := 16*len(ts) + answerOverhead + len(k.running)
	if answerCache.bytes+size > answerCacheBytes {
		answerCache.m, answerCache.bytes = map[answerKey]answer{}, 0
	}
	answerCache.m[k] = answer{ts: ts, vals: vals}
	answerCache.bytes += size
	answerCache.Unlock()
	return ts, vals
}

// aggregate computes st over [start, end) in buckets of period seconds,
// only from points complete by now, calling emit for each bucket with data
// in ascending time.
func (sr *series) aggregate(start, end, period, now int64, st statistic, agg *aggregator, emit func(t int64, v float64)) {
	keepRaw := st.kind == statPercentile
	cur := int64(-1)
	// enter moves to the bucket holding t, emitting the finished one.
	enter := func(t int64) {
		if b := (t - start) / period; b != cur {
			if cur >= 0 {
				if v, ok := agg.value(st); ok {
					emit(start+cur*period, v)
				}
			}
			agg.reset()
			cur = b
		}
	}
	if sr.builtin != nil {
		res := sr.metric.resolution
		for _, iv := range sr.builtin.running {
			from := max(iv[0], start)
			from = (from + res - 1) / res * res
			to := min(iv[1], end)
			var blk *dayBlock
			for t := from; t < to && t+res <= now; {
				day := t - t%blockSeconds
				if blk == nil || blk.day != day {
					blk = sr.block(day)
				}
				enter(t)
				// A whole day inside the running interval, the bucket and
				// the past is added as one precomputed block.
				if t == day && t+blockSeconds <= to && t+blockSeconds <= now &&
					(t-start)/period == (t+blockSeconds-1-start)/period {
					agg.addBlock(blk, keepRaw)
					t += blockSeconds
					continue
				}
				// Otherwise take the points up to the first of: end of the
				// interval, the day, the bucket, or the last complete slot.
				runEnd := min(to, day+blockSeconds, start+(cur+1)*period, now-res+1)
				i0, i1 := (t-day)/res, (runEnd-day+res-1)/res
				agg.addRun(blk.byTime[i0:i1], keepRaw)
				t = day + i1*res
			}
		}
	} else {
		i := sort.Search(len(sr.custom), func(i int) bool { return sr.custom[i].t >= start })
		for ; i < len(sr.custom) && sr.custom[i].t < end; i++ {
			enter(sr.custom[i].t)
			agg.add(sr.custom[i], keepRaw)
		}
	}
	if cur >= 0 {
		if v, ok := agg.value(st); ok {
			emit(start+cur*period, v)
		}
	}
}
