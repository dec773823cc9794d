package controlplane

import (
	"container/list"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// DefaultListCacheBytes bounds the ListResources page cache when
// Options.ListCacheBytes is 0: 3,000 pages of 100 resources (about 22 KB
// each encoded), the first 15 pages of 200 tenants.
const DefaultListCacheBytes = 64 << 20

// pageEntryOverhead is what an entry costs besides its key and encoded
// page: the list element, the map slot and the entry's fields.
const pageEntryOverhead = 160

// pageKey names one cached ListResources response: the tenant, its
// inventory version when the page was read, and the normalized request
// (filters, page size and page token, encoded deterministically). The
// tenant is its own field, not only inside the request, so two tenants'
// identical requests can never share an entry.
type pageKey struct {
	tenant  string
	version int64
	query   string
}

type pageEntry struct {
	key  pageKey
	wire []byte
}

// pageCache is a least-recently-used cache of encoded ListResources
// responses, bounded in bytes (keys and pages together). Entries of an
// older inventory version are never asked for again and age out; nothing
// else invalidates them, because the version read with each request is
// the invalidation.
type pageCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front: most recently used; values *pageEntry
	byKey map[pageKey]*list.Element

	lookups *prometheus.CounterVec
	bytes   prometheus.Gauge
}

// newPageCache makes a cache of at most bound bytes; bound < 0 turns it
// off (nil), 0 means DefaultListCacheBytes.
func newPageCache(bound int64, r prometheus.Registerer) (*pageCache, error) {
	if bound < 0 {
		return nil, nil
	}
	if bound == 0 {
		bound = DefaultListCacheBytes
	}
	c := &pageCache{
		max:   bound,
		order: list.New(),
		byKey: map[pageKey]*list.Element{},
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_list_cache_lookups_total",
			Help: "ListResources page cache lookups, by outcome: hit or miss.",
		}, []string{"outcome"}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_list_cache_bytes",
			Help: "Bytes held by the ListResources page cache (encoded pages and their keys).",
		}),
	}
	for _, col := range []prometheus.Collector{c.lookups, c.bytes} {
		if err := r.Register(col); err != nil {
			return nil, fmt.Errorf("register list cache metrics: %w", err)
		}
	}
	return c, nil
}

func entryCost(k pageKey, wire []byte) int64 {
	return int64(len(k.tenant) + len(k.query) + len(wire) + pageEntryOverhead)
}

// get returns the encoded page for k; the caller must not change it.
func (c *pageCache) get(k pageKey) ([]byte, bool) {
	c.mu.Lock()
	el, ok := c.byKey[k]
	if ok {
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		c.lookups.WithLabelValues("miss").Inc()
		return nil, false
	}
	c.lookups.WithLabelValues("hit").Inc()
	return el.Value.(*pageEntry).wire, true
}

// put stores wire under k, evicting the least recently used entries until
// the cache is within its bound. A page bigger than the whole bound is not
// stored.
func (c *pageCache) put(k pageKey, wire []byte) {
	cost := entryCost(k, wire)
	if cost > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		// A concurrent miss of the same page stored it first; both read
		// the same version, so either copy is right.
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(&pageEntry{key: k, wire: wire})
	c.size += cost
	for c.size > c.max {
		old := c.order.Back()
		e := old.Value.(*pageEntry)
		c.order.Remove(old)
		delete(c.byKey, e.key)
		c.size -= entryCost(e.key, e.wire)
	}
	c.bytes.Set(float64(c.size))
}

// listResourcesKey is the cache key of req read at the tenant's inventory
// version. The query is the whole request but its tenant (a field of the
// key), encoded deterministically (tag filters in key order), with the
// default page size written out; cloning the request rather than naming
// its fields keeps a field added to it later inside the key.
func listResourcesKey(req *sirsiv1.ListResourcesRequest, version int64) (pageKey, error) {
	q := proto.Clone(req).(*sirsiv1.ListResourcesRequest)
	q.TenantId = ""
	if q.PageSize == 0 {
		q.PageSize = store.DefaultPageSize
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(q)
	if err != nil {
		return pageKey{}, fmt.Errorf("encode the cache key: %w", err)
	}
	return pageKey{tenant: req.TenantId, version: version, query: string(b)}, nil
}

// preEncoded is a response whose encoding is wire: the message carries
// wire as its unknown fields, which proto.Marshal writes out as they are,
// so gRPC's codec copies the cached bytes instead of encoding the page
// again, and the client decodes them as the response's fields. The
// handler keeps its generated signature; wire is never modified.
func preEncoded(wire []byte) *sirsiv1.ListResourcesResponse {
	resp := &sirsiv1.ListResourcesResponse{}
	resp.ProtoReflect().SetUnknown(wire)
	return resp
}

// decodePreEncoded turns a preEncoded response into one with its fields
// set, for in-process callers that read fields instead of sending the
// message (InvokeManagement); messages without unknown fields are returned
// as they are.
func decodePreEncoded(m proto.Message) (proto.Message, error) {
	r := m.ProtoReflect()
	if len(r.GetUnknown()) == 0 {
		return m, nil
	}
	wire, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode the cached %s: %w", r.Descriptor().FullName(), err)
	}
	out := r.New().Interface()
	if err := proto.Unmarshal(wire, out); err != nil {
		return nil, fmt.Errorf("decode the cached %s: %w", r.Descriptor().FullName(), err)
	}
	return out, nil
}
