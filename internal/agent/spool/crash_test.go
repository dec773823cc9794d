package spool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	crashDirEnv   = "SPOOL_CRASH_DIR"
	crashFirstEnv = "SPOOL_CRASH_FIRST"
	crashRuns     = 20
	// idsPerRun keeps each child's batch ids in their own range; a child
	// killed within 60 ms never gets near it.
	idsPerRun = 40000
)

func crashPayload(id string, n int) []byte {
	return bytes.Repeat([]byte(id), n)
}

// TestHelperSpoolWriter is the child of TestSpoolSurvivesSIGKILL. It
// reports on stdout, one line per fact, only after the fact is durable:
//
//	R                  writing starts now
//	A <id> <seq>       Append of <id> returned
//	P <id> ...         about to Ack these
//	K                  that Ack returned
func TestHelperSpoolWriter(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestSpoolSurvivesSIGKILL")
	}
	first, err := strconv.Atoi(os.Getenv(crashFirstEnv))
	if err != nil {
		t.Fatalf("%s: %v", crashFirstEnv, err)
	}
	s, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Printf("E open: %v\n", err)
		t.Fatal(err)
	}
	fmt.Println("R")
	rng := rand.New(rand.NewPCG(uint64(first), uint64(os.Getpid())))
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < idsPerRun-1 && time.Now().Before(deadline); i++ {
		id := fmt.Sprintf("b-%06d", first+i)
		n := rng.IntN(512)
		if i%16 == 15 {
			n = 16 << 10 // about 128 KiB: a multi-page write to be killed in
		}
		seq, err := s.Append(Kind(i%5+1), id, crashPayload(id, n))
		if err != nil {
			fmt.Printf("E append: %v\n", err)
			t.Fatal(err)
		}
		fmt.Printf("A %s %d\n", id, seq)
		if i%4 != 3 {
			continue
		}
		recs, err := s.Peek(1 + rng.IntN(3))
		if err != nil {
			fmt.Printf("E peek: %v\n", err)
			t.Fatal(err)
		}
		ids := make([]string, len(recs))
		seqs := make([]uint64, len(recs))
		for j, r := range recs {
			ids[j], seqs[j] = r.BatchID, r.Seq
		}
		fmt.Printf("P %s\n", strings.Join(ids, " "))
		if err := s.Ack(seqs...); err != nil {
			fmt.Printf("E ack: %v\n", err)
			t.Fatal(err)
		}
		fmt.Println("K")
	}
}

// TestSpoolSurvivesSIGKILL kills a writing child at a random moment, 20
// times on the same dir, and checks after each kill that nothing durable
// was lost, nothing acknowledged came back, nothing is duplicated and
// sequences only grow.
func TestSpoolSurvivesSIGKILL(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("running as the child")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	durable := map[string]uint64{} // id -> seq of every record known to be stored
	acked := map[string]bool{}
	var maxSeq uint64
	totalAppends := 0

	for run := 0; run < crashRuns; run++ {
		first := run*idsPerRun + 1
		lines, killed := runCrashChild(t, dir, first, 5+rng.IntN(56))

		// Replay the child's report.
		var pending []string // ids of an Ack that may or may not have committed
		inflight := fmt.Sprintf("b-%06d", first)
		runMax := maxSeq
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 0:
			case f[0] == "E":
				t.Fatalf("run %d: child failed: %s", run, l)
			case f[0] == "A" && len(f) == 3:
				seq, err := strconv.ParseUint(f[2], 10, 64)
				if err != nil {
					t.Fatalf("run %d: bad line %q", run, l)
				}
				if seq <= runMax {
					t.Fatalf("run %d: %s got seq %d, not above %d seen before", run, f[1], seq, runMax)
				}
				runMax = seq
				durable[f[1]] = seq
				n, _ := strconv.Atoi(strings.TrimPrefix(f[1], "b-"))
				inflight = fmt.Sprintf("b-%06d", n+1)
				totalAppends++
			case f[0] == "P":
				pending = f[1:]
			case f[0] == "K":
				for _, id := range pending {
					acked[id] = true
				}
				pending = nil
			}
		}

		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("run %d: Open after SIGKILL: %v", run, err)
		}
		recs, err := s.Peek(1 << 30)
		if err != nil {
			t.Fatalf("run %d: Peek after SIGKILL: %v", run, err)
		}
		if s.Len() != len(recs) {
			t.Fatalf("run %d: Len %d but Peek found %d", run, s.Len(), len(recs))
		}
		present := map[string]uint64{}
		var prev uint64
		for _, r := range recs {
			if r.Seq <= prev {
				t.Fatalf("run %d: sequence %d follows %d", run, r.Seq, prev)
			}
			prev = r.Seq
			if _, dup := present[r.BatchID]; dup {
				t.Fatalf("run %d: batch %s stored twice", run, r.BatchID)
			}
			present[r.BatchID] = r.Seq
			if acked[r.BatchID] {
				t.Fatalf("run %d: acknowledged batch %s came back", run, r.BatchID)
			}
			if want, ok := durable[r.BatchID]; ok && want != r.Seq {
				t.Fatalf("run %d: batch %s has seq %d, was appended as %d", run, r.BatchID, r.Seq, want)
			}
			if _, ok := durable[r.BatchID]; !ok {
				if r.BatchID != inflight || r.Seq <= runMax {
					t.Fatalf("run %d: unexpected batch %s seq %d (in-flight append was %s after seq %d)", run, r.BatchID, r.Seq, inflight, runMax)
				}
				durable[r.BatchID] = r.Seq
			}
			if n := len(r.Payload) / len(r.BatchID); !bytes.Equal(r.Payload, crashPayload(r.BatchID, n)) {
				t.Fatalf("run %d: batch %s payload damaged", run, r.BatchID)
			}
			maxSeq = max(maxSeq, r.Seq)
		}
		maxSeq = max(maxSeq, runMax)
		isPending := map[string]bool{}
		for _, id := range pending {
			isPending[id] = true
		}
		for id := range durable {
			if acked[id] {
				continue
			}
			if _, ok := present[id]; ok {
				continue
			}
			if !isPending[id] {
				t.Fatalf("run %d: durable, unacknowledged batch %s is missing", run, id)
			}
			// Its Ack committed before the kill, only the report was lost.
			acked[id] = true
		}
		if err := s.Close(); err != nil {
			t.Fatalf("run %d: Close: %v", run, err)
		}
		t.Logf("run %d: killed=%v, %d records held, %d appends and %d acks reported so far",
			run, killed, len(recs), totalAppends, len(acked))
	}
	if totalAppends == 0 {
		t.Fatal("no child ever reported a durable append; the test proved nothing")
	}
}

// runCrashChild starts the writer, SIGKILLs it killAfterMS after it reports
// ready, and returns the complete lines it printed.
func runCrashChild(t *testing.T, dir string, first, killAfterMS int) ([]string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperSpoolWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashFirstEnv+"="+strconv.Itoa(first))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting child: %v", err)
	}
	r := bufio.NewReader(out)
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			_ = cmd.Wait()
			t.Fatalf("child exited before writing: %v\nstdout: %q\nstderr: %s", err, strings.Join(lines, ""), stderr.String())
		}
		lines = append(lines, l)
		if l == "R\n" {
			break
		}
	}
	time.Sleep(time.Duration(killAfterMS) * time.Millisecond)
	killed := cmd.Process.Kill() == nil // SIGKILL on unix
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading child output: %v", err)
	}
	_ = cmd.Wait()
	// A line without its newline was cut by the kill and reports nothing.
	if i := bytes.LastIndexByte(rest, '\n'); i >= 0 {
		lines = append(lines, strings.SplitAfter(string(rest[:i+1]), "\n")...)
	}
	if ctx.Err() != nil {
		t.Fatalf("child outlived its 10 s bound")
	}
	return lines, killed
}
