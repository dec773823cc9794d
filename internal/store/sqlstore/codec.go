package sqlstore

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// newID returns a time-ordered UUID, so id order is roughly creation order
// and the keyset pages of id-ordered lists follow it.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func tsNanos(ts *timestamppb.Timestamp) int64 {
	if ts == nil {
		return 0
	}
	return nanos(ts.AsTime())
}

func ts(n int64) *timestamppb.Timestamp {
	if n == 0 {
		return nil
	}
	return timestamppb.New(time.Unix(0, n).UTC())
}

func durNanos(d *durationpb.Duration) int64 {
	if d == nil {
		return 0
	}
	return int64(d.AsDuration())
}

func dur(n int64) *durationpb.Duration {
	if n == 0 {
		return nil
	}
	return durationpb.New(time.Duration(n))
}

// microsArg is the column value of an amount: its micro-units, NULL when
// unknown.
func microsArg(m *sirsiv1.Money) any {
	if m == nil {
		return nil
	}
	return m.Micros
}

// usdMicros reads a column of US-dollar micro-units; NULL is unknown. The
// control plane refuses amounts in other currencies for these columns
// before they reach the store.
func usdMicros(n sql.NullInt64) *sirsiv1.Money {
	if !n.Valid {
		return nil
	}
	return money.Micros(n.Int64, money.USD)
}

func hexHash(h []byte) string { return hex.EncodeToString(h) }

// encodeJSON stores maps and slices of scalars; encoding/json sorts map
// keys, so equal maps encode equally (cost records rely on that).
func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode JSON: %w", err)
	}
	return string(b), nil
}

func decodeJSON(s string, v any) error {
	if s == "" || s == "null" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode stored JSON: %w", err)
	}
	return nil
}

func stringMap(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	return encodeJSON(m)
}

func readStringMap(s string) (map[string]string, error) {
	if s == "{}" {
		return nil, nil
	}
	// Listing resources decodes two maps per row, and reflection-based
	// decoding was a third of ListResources' CPU; the compact, escape-free
	// JSON that encodeJSON writes for ordinary tags parses directly, and
	// anything else takes the general decoder.
	if m, ok := parseFlatStringMap(s); ok {
		return m, nil
	}
	var m map[string]string
	if err := decodeJSON(s, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// encodeProto stores nested messages in their canonical JSON form.
func encodeProto(m proto.Message) (string, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return string(b), nil
}

func decodeProto(s string, m proto.Message) error {
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(s), m); err != nil {
		return fmt.Errorf("decode stored %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// parseFlatStringMap parses {"k":"v",...} written without whitespace or
// escapes; ok is false for anything else.
func parseFlatStringMap(s string) (map[string]string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	m := make(map[string]string, strings.Count(s, `":"`))
	i := 1
	str := func() (string, bool) {
		if i >= len(s) || s[i] != '"' {
			return "", false
		}
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return "", false
		}
		v := s[i+1 : i+1+end]
		i += end + 2
		return v, true
	}
	for i < len(s)-1 {
		k, ok := str()
		if !ok || i >= len(s) || s[i] != ':' {
			return nil, false
		}
		i++
		v, ok := str()
		if !ok || !utf8.ValidString(v) {
			return nil, false
		}
		m[k] = v
		switch {
		case i == len(s)-1:
		case s[i] == ',' && i+1 < len(s)-1:
			i++
		default:
			return nil, false
		}
	}
	return m, true
}
