package spool

import (
	"testing"
	"time"
)

// BenchmarkAppendAck measures the sender's steady state: each iteration
// appends one 64 KiB batch (one fsynced transaction) and acknowledges it
// (another). MB/s comes from SetBytes; records/s is reported explicitly.
func BenchmarkAppendAck(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	payload := make([]byte, 64<<10)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		seq, err := s.Append(KindInventory, "bench-batch", payload)
		if err != nil {
			b.Fatalf("Append: %v", err)
		}
		if err := s.Ack(seq); err != nil {
			b.Fatalf("Ack: %v", err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}
