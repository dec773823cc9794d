package sqlstore

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// errUnexpectedField sends a record the fast decoder does not fully
// understand to the general one.
var errUnexpectedField = errors.New("record field outside the fast path")

// decodeResourceRecord decodes a stored resource record. proto.Unmarshal
// spent most of a list page in its reflective map decoding and allocated
// every string separately; this reads the wire format of exactly the
// fields Resource has, copies the record once and slices every string out
// of that copy. Anything else (a field added to Resource later, a wire type
// it does not expect) is left to proto.Unmarshal, so the result is always
// what proto.Unmarshal would return for a record proto.Marshal wrote.
func decodeResourceRecord(b []byte) (*sirsiv1.Resource, error) {
	var r sirsiv1.Resource
	err := decodeResourceFast(b, &r)
	if errors.Is(err, errUnexpectedField) {
		r = sirsiv1.Resource{}
		err = proto.Unmarshal(b, &r)
	}
	if err != nil {
		return nil, fmt.Errorf("decode stored resource: %w", err)
	}
	return &r, nil
}

func decodeResourceFast(b []byte, r *sirsiv1.Resource) error {
	s := string(b)
	strs := [...]*string{1: &r.ResourceId, 2: &r.TenantId, 3: &r.CloudAccountId, 4: &r.AccountId, 5: &r.Region, 6: &r.Type,
		7: &r.Arn, 8: &r.Name, 9: &r.Size, 10: &r.State}
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return protowire.ParseError(n)
		}
		off += n
		if typ != protowire.BytesType || num < 1 || num > 16 {
			return errUnexpectedField
		}
		v, n := protowire.ConsumeBytes(b[off:])
		if n < 0 {
			return protowire.ParseError(n)
		}
		start := off + n - len(v)
		off += n
		var err error
		switch {
		case num <= 10:
			*strs[num] = s[start:off]
		case num == 11:
			r.Tags, err = decodeMapEntry(r.Tags, v, s[start:off])
		case num == 12:
			r.MonthlyCost, err = decodeMoney(v, s[start:off])
		case num == 13:
			r.Attributes, err = decodeMapEntry(r.Attributes, v, s[start:off])
		case num == 14:
			r.LaunchTime, err = decodeTimestamp(v)
		case num == 15:
			r.FirstSeenTime, err = decodeTimestamp(v)
		case num == 16:
			r.LastSeenTime, err = decodeTimestamp(v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeMapEntry adds one map<string, string> entry (key 1, value 2, either
// absent meaning ""); b and s are the same bytes.
func decodeMapEntry(m map[string]string, b []byte, s string) (map[string]string, error) {
	var k, v string
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return m, protowire.ParseError(n)
		}
		off += n
		if typ != protowire.BytesType || (num != 1 && num != 2) {
			return m, errUnexpectedField
		}
		f, n := protowire.ConsumeBytes(b[off:])
		if n < 0 {
			return m, protowire.ParseError(n)
		}
		field := s[off+n-len(f) : off+n]
		off += n
		if num == 1 {
			k = field
		} else {
			v = field
		}
	}
	if m == nil {
		m = make(map[string]string, 4)
	}
	m[k] = v
	return m, nil
}

// decodeMoney reads a Money message (currency_code 1, micros 2); b and s are
// the same bytes.
func decodeMoney(b []byte, s string) (*sirsiv1.Money, error) {
	var m sirsiv1.Money
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		off += n
		switch {
		case num == 1 && typ == protowire.BytesType:
			f, n := protowire.ConsumeBytes(b[off:])
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			m.CurrencyCode = s[off+n-len(f) : off+n]
			off += n
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b[off:])
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			m.Micros = int64(v)
			off += n
		default:
			return nil, errUnexpectedField
		}
	}
	return &m, nil
}

func decodeTimestamp(b []byte) (*timestamppb.Timestamp, error) {
	var t timestamppb.Timestamp
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		off += n
		if typ != protowire.VarintType || (num != 1 && num != 2) {
			return nil, errUnexpectedField
		}
		v, n := protowire.ConsumeVarint(b[off:])
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		off += n
		if num == 1 {
			t.Seconds = int64(v)
		} else {
			t.Nanos = int32(v)
		}
	}
	return &t, nil
}
