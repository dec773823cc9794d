package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
)

// TestBenchmarkEndToEnd runs what `make bench-listresources` runs, scaled
// down to seconds, against a freshly built agentd: on SQLite, and on two
// PostgreSQL replicas. Every model's row must be there with the requests
// it made, and every server must have been shut down afterwards. Figures are not
// checked: they are the machine's, not the code's.
func TestBenchmarkEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs agentd")
	}
	agentd := filepath.Join(t.TempDir(), "agentd")
	if out, err := exec.Command("go", "build", "-o", agentd, "../../agentd").CombinedOutput(); err != nil {
		t.Fatalf("building agentd: %v\n%s", err, out)
	}
	for _, c := range []struct {
		store string
		rows  []string
	}{
		{"sqlite", []string{"| open, 20 req/s | 2 |", "| closed, 20 clients | 2 |"}},
		{"postgres", []string{"| open, 20 req/s | 2 |", "| closed, 20 clients | 2 |"}},
	} {
		t.Run(c.store, func(t *testing.T) {
			if c.store == "postgres" {
				if _, err := pgtest.FindBinaries(); errors.Is(err, pgtest.ErrNoBinaries) && os.Getenv("CI") != "true" {
					t.Skipf("SKIPPING PostgreSQL: %v", err)
				}
			}
			work := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := Main([]string{"-agentd", agentd, "-store", c.store, "-clients", "20", "-resources", "300", "-rates", "20",
				"-duration", "1s", "-runs", "2", "-closed-pages", "3", "-work-dir", work, "-label", "test"}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
			}
			out := stdout.String()
			for _, row := range c.rows {
				if !strings.Contains(out, row) {
					t.Errorf("no row starting %q in:\n%s", row, out)
				}
			}
			// 20 clients reading 3 pages each, twice: the progress lines
			// count the closed loop's requests.
			if n := strings.Count(stderr.String(), "closed, 20 clients, run "); n != 2 {
				t.Errorf("%d closed-loop runs reported, want 2:\n%s", n, &stderr)
			}
			if !strings.Contains(stderr.String(), "60 requests") {
				t.Errorf("no closed-loop run of 60 requests:\n%s", &stderr)
			}
			replicas := 1
			if c.store == "postgres" {
				replicas = 2
				if !strings.Contains(out, "PostgreSQL CPU ms/req") {
					t.Errorf("no PostgreSQL column:\n%s", out)
				}
			}
			if got := strings.Count(strings.SplitN(out, "server peak resident memory:", 2)[1], "MiB"); got != replicas {
				t.Errorf("peak memory of %d servers, want %d:\n%s", got, replicas, out)
			}
			// The servers were stopped: their logs end with the shutdown.
			for i := range replicas {
				log, err := os.ReadFile(filepath.Join(work, fmt.Sprintf("replica%d.log", i)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(log, []byte("shutting down")) {
					t.Errorf("replica %d's log has no shutdown:\n%s", i, log)
				}
			}
		})
	}
}
