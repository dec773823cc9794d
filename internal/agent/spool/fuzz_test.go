package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"
)

// FuzzDecodeRecord feeds DecodeRecord arbitrary bytes (it must never panic,
// and whatever it accepts must re-encode to exactly the same bytes) and
// also builds a valid record from the input to check that the encoder's
// output always decodes back to what went in.
func FuzzDecodeRecord(f *testing.F) {
	seeds := []struct {
		kind    Kind
		id      string
		payload []byte
		at      time.Time
	}{
		{KindInventory, "b-000001", []byte("inventory"), time.Unix(1700000000, 42)},
		{KindUtilization, "u", nil, time.Unix(0, 0)},
		{KindCosts, "costs 2026-03", bytes.Repeat([]byte{0}, 300), time.Unix(-1, 0)},
		{KindRecommendations, string(bytes.Repeat([]byte("~"), 64)), []byte{0xff}, time.Unix(1<<32, 999999999)},
		{KindActions, "act", []byte("x"), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, s := range seeds {
		enc := encodeRecord(s.kind, s.id, s.payload, s.at)
		f.Add(enc)
		f.Add(enc[:len(enc)-1])
		f.Add(enc[:headerLen])
	}
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := DecodeRecord(data); err == nil {
			again := encodeRecord(r.Kind, r.BatchID, r.Payload, r.Enqueued)
			if !bytes.Equal(again, data) {
				t.Fatalf("accepted record re-encodes differently:\n in  %x\n out %x", data, again)
			}
		}

		if len(data) < 10 {
			return
		}
		kind := Kind(data[0]%5 + 1)
		idLen := int(data[1])%maxBatchIDLen + 1
		id := make([]byte, idLen)
		for i := range id {
			id[i] = 0x20 + data[(2+i)%len(data)]%0x5f
		}
		nanos := int64(0)
		for _, c := range data[2:10] {
			nanos = nanos<<8 | int64(c)
		}
		payload := data[10:]
		enc := encodeRecord(kind, string(id), payload, time.Unix(0, nanos))
		r, err := DecodeRecord(enc)
		if err != nil {
			t.Fatalf("encoder output does not decode: %v", err)
		}
		if r.Kind != kind || r.BatchID != string(id) || !bytes.Equal(r.Payload, payload) || r.Enqueued.UnixNano() != nanos {
			t.Fatalf("round trip changed the record: got %v %q %x %d, want %v %q %x %d",
				r.Kind, r.BatchID, r.Payload, r.Enqueued.UnixNano(), kind, id, payload, nanos)
		}
	})
}

func TestDecodeRecordErrors(t *testing.T) {
	good := encodeRecord(KindCosts, "b-1", []byte("pay"), time.Unix(5, 0))
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"short", good[:headerLen-1], "shorter than the 16-byte header"},
		{"version", mut(func(b []byte) []byte { b[0] = 2; return b }), "format version 2 is not supported"},
		{"kind", mut(func(b []byte) []byte { b[1] = 0; return b }), "kind 0 is unknown"},
		{"checksum", mut(func(b []byte) []byte { b[len(b)-1]++; return b }), "checksum mismatch"},
		{"truncated", good[:len(good)-1], "checksum mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeRecord(c.in)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
				t.Fatalf("DecodeRecord error = %v, want one containing %q", err, c.want)
			}
		})
	}
	// Structural errors behind a valid checksum: re-seal after mutating.
	reseal := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[2:6], crc32.Checksum(b[6:], castagnoli))
		return b
	}
	structural := []struct {
		name string
		in   []byte
		want string
	}{
		{"id length zero", reseal(mut(func(b []byte) []byte { b[14], b[15] = 0, 0; return b })), "batch id length 0 is outside 1..64"},
		{"id length too big", reseal(mut(func(b []byte) []byte { b[14], b[15] = 0, 65; return b })), "batch id length 65 is outside"},
		{"id past end", reseal(mut(func(b []byte) []byte { b[15] = 40; return b })), "runs past the end"},
		{"id not printable", reseal(mut(func(b []byte) []byte { b[headerLen] = 0x7f; return b })), "byte 0x7f at offset 0"},
	}
	for _, c := range structural {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeRecord(c.in)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
				t.Fatalf("DecodeRecord error = %v, want one containing %q", err, c.want)
			}
		})
	}
}
