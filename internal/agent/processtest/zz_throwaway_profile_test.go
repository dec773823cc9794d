package processtest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

func BenchmarkZZProfile(b *testing.B) {
	w := newWorld(b, awssim.FleetSpec{N: 50_000, Seed: 3, Mix: awssim.FleetMix{Instances: 50, Volumes: 20, Addresses: 10}})
	dir := b.TempDir()
	args := append(w.agentArgs(dir, w.env.NewEnrollmentToken(b, w.tenant.ID, w.account.Id)), "-pprof-listen", "127.0.0.1:46061")
	p := start(b, args...)
	waitUntil(b, "d", 10*time.Minute, p, func() bool { return p.logged("sweep done", "discovery") })
	waitUntil(b, "u", 10*time.Minute, p, func() bool { return p.logged("sweep done", "utilization") })
	pid := p.cmd.Process.Pid
	sm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	var cur string
	for _, l := range strings.Split(string(sm), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && strings.Contains(f[0], "-") {
			cur = l
		}
		if strings.HasPrefix(l, "Rss:") && len(f) >= 2 && f[1] != "0" && len(f[1]) > 3 {
			fmt.Fprintf(os.Stderr, "%s kB  %s\n", f[1], cur)
		}
	}
	for _, u := range []string{"heap", "heap?debug=1"} {
		resp, err := http.Get("http://127.0.0.1:46061/debug/pprof/" + u)
		if err != nil {
			b.Fatal(err)
		}
		bb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name := "/tmp/rss/heap.pb.gz"
		if strings.Contains(u, "debug") {
			name = "/tmp/rss/heap.txt"
		}
		os.WriteFile(name, bb, 0o644)
	}
	p.kill()
}
