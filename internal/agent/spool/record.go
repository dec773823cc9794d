package spool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
)

// Kind says what a batch reports; the control plane routes on it and the
// size cap treats utilisation differently from everything else.
type Kind uint8

// The kinds of batch the agent reports. The numeric values are stored on
// disk, so they must never be renumbered.
const (
	KindInventory Kind = iota + 1
	KindUtilization
	KindCosts
	KindRecommendations
	KindActions
)

// kinds lists every known kind, in order, for metrics and counters.
var kinds = []Kind{KindInventory, KindUtilization, KindCosts, KindRecommendations, KindActions}

// String returns the lower-case name used in logs and metric labels.
func (k Kind) String() string {
	switch k {
	case KindInventory:
		return "inventory"
	case KindUtilization:
		return "utilization"
	case KindCosts:
		return "costs"
	case KindRecommendations:
		return "recommendations"
	case KindActions:
		return "actions"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindInventory && k <= KindActions }

// Record is one spooled batch.
type Record struct {
	Seq      uint64
	Kind     Kind
	BatchID  string
	Payload  []byte // opaque to the spool (a marshalled protobuf request)
	Enqueued time.Time
}

const (
	formatVersion = 1

	// headerLen covers version, kind, CRC, enqueue time and batch-id length.
	headerLen = 1 + 1 + 4 + 8 + 2

	maxBatchIDLen = 64

	// MaxPayload is the largest payload Append accepts: far above any
	// report batch, small enough that a bad length can never make the
	// agent hold an absurd allocation.
	MaxPayload = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord lays a record out as
// [version][kind][CRC-32C of the rest][enqueue unix nanos][id len][id][payload].
// The caller has validated its arguments.
func encodeRecord(kind Kind, batchID string, payload []byte, enqueued time.Time) []byte {
	b := make([]byte, headerLen+len(batchID)+len(payload))
	b[0] = formatVersion
	b[1] = byte(kind)
	binary.BigEndian.PutUint64(b[6:14], uint64(enqueued.UnixNano()))
	binary.BigEndian.PutUint16(b[14:16], uint16(len(batchID)))
	copy(b[headerLen:], batchID)
	copy(b[headerLen+len(batchID):], payload)
	binary.BigEndian.PutUint32(b[2:6], crc32.Checksum(b[6:], castagnoli))
	return b
}

// DecodeRecord parses and fully validates one stored value: format
// version, kind, lengths and checksum. The returned Record has Seq 0 (the
// sequence is the bbolt key, not part of the value) and owns its memory,
// so b may be reused afterwards. The version and kind bytes sit in front of
// the checksum in the format, so a flip of the kind byte to another known
// kind is the one corruption this cannot see.
func DecodeRecord(b []byte) (Record, error) {
	if len(b) < headerLen {
		return Record{}, fmt.Errorf("decoding spool record: %d bytes is shorter than the %d-byte header", len(b), headerLen)
	}
	if b[0] != formatVersion {
		return Record{}, fmt.Errorf("decoding spool record: format version %d is not supported (want %d)", b[0], formatVersion)
	}
	kind := Kind(b[1])
	if !kind.valid() {
		return Record{}, fmt.Errorf("decoding spool record: kind %d is unknown", b[1])
	}
	stored := binary.BigEndian.Uint32(b[2:6])
	if computed := crc32.Checksum(b[6:], castagnoli); computed != stored {
		return Record{}, fmt.Errorf("decoding spool record: checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, computed)
	}
	idLen := int(binary.BigEndian.Uint16(b[14:16]))
	if idLen < 1 || idLen > maxBatchIDLen {
		return Record{}, fmt.Errorf("decoding spool record: batch id length %d is outside 1..%d", idLen, maxBatchIDLen)
	}
	if headerLen+idLen > len(b) {
		return Record{}, fmt.Errorf("decoding spool record: batch id length %d runs past the end of the %d-byte record", idLen, len(b))
	}
	batchID := string(b[headerLen : headerLen+idLen])
	if err := checkBatchID(batchID); err != nil {
		return Record{}, fmt.Errorf("decoding spool record: %w", err)
	}
	payload := b[headerLen+idLen:]
	if len(payload) > MaxPayload {
		return Record{}, fmt.Errorf("decoding spool record: payload of %d bytes exceeds the %d-byte limit", len(payload), MaxPayload)
	}
	return Record{
		Kind:     kind,
		BatchID:  batchID,
		Payload:  append([]byte{}, payload...),
		Enqueued: time.Unix(0, int64(binary.BigEndian.Uint64(b[6:14]))),
	}, nil
}

// checkBatchID enforces 1..64 printable ASCII characters (space to tilde):
// the id travels in logs and in the control plane's idempotency key.
func checkBatchID(id string) error {
	if len(id) < 1 || len(id) > maxBatchIDLen {
		return fmt.Errorf("batch id %q has length %d, want 1..%d", id, len(id), maxBatchIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("batch id %q has byte 0x%02x at offset %d, want printable ASCII", id, c, i)
		}
	}
	return nil
}

// validate checks Append's arguments.
func validate(kind Kind, batchID string, payload []byte) error {
	if !kind.valid() {
		return fmt.Errorf("kind %d is unknown, want 1..%d", uint8(kind), uint8(KindActions))
	}
	if err := checkBatchID(batchID); err != nil {
		return err
	}
	if len(payload) > MaxPayload {
		return fmt.Errorf("payload of %d bytes exceeds the %d-byte limit", len(payload), MaxPayload)
	}
	return nil
}
