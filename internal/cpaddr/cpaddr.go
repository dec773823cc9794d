// Package cpaddr is how an agent finds the control plane: it parses the
// list of control-plane addresses (host:port, each an IP or a DNS name) and
// resolves it for gRPC. Each entry is watched by gRPC's own DNS resolver;
// their addresses are joined, in the configured order, into one list that
// gRPC's pick_first balancer walks, so the agent moves to the next replica
// when the one it uses stops answering, and re-resolves the names then.
package cpaddr

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// MaxServers bounds the list: an agent needs a few replicas, not a fleet.
const MaxServers = 16

// Server is one configured entry: a host (IP address or DNS name) and a
// port.
type Server struct {
	Host string
	Port string
}

func (s Server) String() string { return net.JoinHostPort(s.Host, s.Port) }

// Split cuts a comma-separated list as flags and environment variables
// carry it, keeping empty entries so Parse can name them.
func Split(v string) []string {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// Parse checks every entry and returns the servers in the given order. The
// errors say which entry (counting from 1) is wrong and why; the caller
// names the setting.
func Parse(entries []string) ([]Server, error) {
	if len(entries) == 0 || (len(entries) == 1 && strings.TrimSpace(entries[0]) == "") {
		return nil, errors.New("required: host:port of the control plane's agent listener (several, comma-separated, for replicas)")
	}
	if len(entries) > MaxServers {
		return nil, fmt.Errorf("%d addresses: at most %d", len(entries), MaxServers)
	}
	out := make([]Server, 0, len(entries))
	seen := map[string]int{}
	var errs []error
	for i, e := range entries {
		n := i + 1
		s, err := parseOne(strings.TrimSpace(e))
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d: %w", n, err))
			continue
		}
		key := strings.ToLower(strings.TrimSuffix(s.Host, ".")) + "|" + s.Port
		if first, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("entry %d %q repeats entry %d", n, e, first))
			continue
		}
		seen[key] = n
		out = append(out, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func parseOne(e string) (Server, error) {
	if e == "" {
		return Server{}, errors.New("empty (a stray comma?)")
	}
	host, port, err := net.SplitHostPort(e)
	if err != nil {
		return Server{}, fmt.Errorf("%q is not host:port: %w", e, err)
	}
	if host == "" {
		return Server{}, fmt.Errorf("%q has no host", e)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return Server{}, fmt.Errorf("%q: port %q is not a number between 1 and 65535", e, port)
	}
	if net.ParseIP(host) == nil && !validation.DNSName(strings.TrimSuffix(host, ".")) {
		return Server{}, fmt.Errorf("%q: host %q is neither an IP address nor a DNS name", e, host)
	}
	return Server{Host: host, Port: port}, nil
}
