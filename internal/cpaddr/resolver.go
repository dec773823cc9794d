package cpaddr

import (
	"errors"
	"fmt"
	"net/url"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/serviceconfig"
)

// scheme names the resolver in the dial target; it is registered per
// connection (grpc.WithResolvers), never globally.
const scheme = "sirsi-cp"

// serviceConfig picks the first address that answers, in the configured
// order, and on losing it walks the list again (asking the resolvers to
// look the names up anew). One connection at a time: an agent's reports
// are sequential, and any replica serves them.
const serviceConfig = `{"loadBalancingConfig":[{"pick_first":{}}]}`

// DialOptions returns the target and the options that make a gRPC client
// use servers: one DNS resolver per entry, joined in order, pick_first over
// the result. serverName, when not empty, is the TLS name verified on every
// replica; otherwise each address is verified against its entry's host.
func DialOptions(servers []Server, serverName string) (string, []grpc.DialOption) {
	b := &builder{servers: servers, serverName: serverName}
	return scheme + ":///" + servers[0].String(), []grpc.DialOption{
		grpc.WithResolvers(b),
		grpc.WithDefaultServiceConfig(serviceConfig),
	}
}

type builder struct {
	servers    []Server
	serverName string
	// dnsServer is the DNS server (host:port) the names are looked up
	// with; empty: the system's resolver configuration.
	dnsServer string
}

func (b *builder) Scheme() string { return scheme }

// Build starts gRPC's own DNS resolver for each entry, as gRPC's xDS
// cluster resolver does for its DNS clusters: an IP entry resolves once,
// a name is looked up again whenever the balancer asks (after losing a
// connection), at most every 30 s.
func (b *builder) Build(_ resolver.Target, cc resolver.ClientConn, opts resolver.BuildOptions) (resolver.Resolver, error) {
	dns := resolver.Get("dns")
	if dns == nil {
		return nil, errors.New("gRPC's dns resolver is not registered")
	}
	m := &multi{cc: cc, servers: b.servers, serverName: b.serverName, states: make([][]resolver.Address, len(b.servers)), errs: make([]error, len(b.servers))}
	children := make([]resolver.Resolver, 0, len(b.servers))
	for i, s := range b.servers {
		u, err := url.Parse("dns://" + b.dnsServer + "/" + s.String())
		if err != nil {
			m.closeAll(children)
			return nil, fmt.Errorf("control-plane address %s: %w", s, err)
		}
		r, err := dns.Build(resolver.Target{URL: *u}, &child{m: m, i: i}, resolver.BuildOptions{
			DisableServiceConfig: true, Dialer: opts.Dialer, Authority: opts.Authority,
		})
		if err != nil {
			m.closeAll(children)
			return nil, fmt.Errorf("resolving control-plane address %s: %w", s, err)
		}
		children = append(children, r)
	}
	m.mu.Lock()
	m.children = children
	m.mu.Unlock()
	return m, nil
}

// multi joins its children's answers into one address list.
type multi struct {
	cc         resolver.ClientConn
	servers    []Server
	serverName string

	// send serialises building and sending the joined state, so an older
	// join never overtakes a newer one.
	send sync.Mutex

	mu       sync.Mutex
	children []resolver.Resolver
	states   [][]resolver.Address
	errs     []error
	closed   bool
}

// update records child i's answer (addrs, or err) and sends the join.
func (m *multi) update(i int, addrs []resolver.Address, err error) error {
	m.send.Lock()
	defer m.send.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	if err != nil {
		m.errs[i] = fmt.Errorf("control-plane address %s: %w", m.servers[i], err)
	} else {
		m.states[i], m.errs[i] = addrs, nil
	}
	joined, errs := m.join()
	m.mu.Unlock()
	if len(joined) == 0 {
		if errs != nil {
			m.cc.ReportError(errs)
		}
		// Entries still being looked up for the first time: wait for them
		// rather than tell the balancer there is nothing.
		return nil
	}
	eps := make([]resolver.Endpoint, len(joined))
	for j, a := range joined {
		eps[j] = resolver.Endpoint{Addresses: []resolver.Address{a}}
	}
	return m.cc.UpdateState(resolver.State{Addresses: joined, Endpoints: eps})
}

// join lists every known address once, in the configured order, each
// carrying the TLS name to verify. A name whose lookup failed keeps its
// last addresses: a replica that answered before may well still answer.
func (m *multi) join() ([]resolver.Address, error) {
	var out []resolver.Address
	seen := map[string]bool{}
	for i, addrs := range m.states {
		name := m.serverName
		if name == "" {
			name = m.servers[i].Host
		}
		for _, a := range addrs {
			if seen[a.Addr] {
				continue
			}
			seen[a.Addr] = true
			out = append(out, resolver.Address{Addr: a.Addr, ServerName: name})
		}
	}
	return out, errors.Join(m.errs...)
}

func (m *multi) ResolveNow(o resolver.ResolveNowOptions) {
	m.mu.Lock()
	children := m.children
	m.mu.Unlock()
	for _, c := range children {
		c.ResolveNow(o)
	}
}

func (m *multi) Close() {
	m.mu.Lock()
	m.closed = true
	children := m.children
	m.mu.Unlock()
	m.closeAll(children)
}

func (m *multi) closeAll(children []resolver.Resolver) {
	for _, c := range children {
		c.Close()
	}
}

// child is the ClientConn one DNS resolver reports to.
type child struct {
	m *multi
	i int
}

func (c *child) UpdateState(s resolver.State) error {
	addrs := s.Addresses
	if len(addrs) == 0 {
		for _, ep := range s.Endpoints {
			addrs = append(addrs, ep.Addresses...)
		}
	}
	return c.m.update(c.i, addrs, nil)
}

func (c *child) ReportError(err error) { _ = c.m.update(c.i, nil, err) }

// NewAddress is the deprecated form of UpdateState.
func (c *child) NewAddress(addrs []resolver.Address) { _ = c.m.update(c.i, addrs, nil) }

// ParseServiceConfig is not reached: the children are built with service
// configs turned off, since the agent's balancing is its own setting.
func (c *child) ParseServiceConfig(string) *serviceconfig.ParseResult {
	return &serviceconfig.ParseResult{Err: errors.New("service configs from DNS are not used")}
}
