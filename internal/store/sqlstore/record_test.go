package sqlstore

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestDecodeResourceRecordMatchesProto(t *testing.T) {
	for name, r := range map[string]*sirsiv1.Resource{
		"empty": {},
		"full": {
			ResourceId: "i-0123", TenantId: "t", CloudAccountId: "ca", AccountId: "123456789012", Region: "us-east-1",
			Type: "aws_ec2_instance", Arn: "arn:aws:ec2:us-east-1:123456789012:instance/i-0123", Name: "web", Size: "m5.large",
			State: "running", Tags: map[string]string{"env": "prod", "": "empty key", "empty": "", "grüße": "✓"},
			MonthlyCost: money.USDFromFloat(70.08), Attributes: map[string]string{"architecture": "x86_64"},
			LaunchTime:    timestamppb.New(time.Unix(-5, 7)),
			FirstSeenTime: timestamppb.New(time.Unix(1700000000, 999999999)),
			LastSeenTime:  timestamppb.New(time.Unix(1800000000, 0)),
		},
		"negative cost, zero times": {ResourceId: "x", MonthlyCost: money.USDFromFloat(-1.5), LaunchTime: &timestamppb.Timestamp{}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := recordOptions.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeResourceRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, r) {
				t.Fatalf("decoded %v, want %v", got, r)
			}
			// The fast path must have taken it, or it would not be tested.
			var fast sirsiv1.Resource
			if err := decodeResourceFast(b, &fast); err != nil || !proto.Equal(&fast, r) {
				t.Fatalf("fast path: %v, %v", &fast, err)
			}
		})
	}
}

func TestDecodeResourceRecordFallsBack(t *testing.T) {
	r := &sirsiv1.Resource{ResourceId: "i-1", Tags: map[string]string{"a": "b"}}
	b, err := recordOptions.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	// A field number Resource does not have (a newer binary's field) is
	// kept as an unknown field by proto.Unmarshal.
	b = protowire.AppendTag(b, 99, protowire.VarintType)
	b = protowire.AppendVarint(b, 7)
	var fast sirsiv1.Resource
	if err := decodeResourceFast(b, &fast); !errors.Is(err, errUnexpectedField) {
		t.Fatalf("fast path on an unknown field: %v", err)
	}
	got, err := decodeResourceRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	var want sirsiv1.Resource
	if err := proto.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, &want) || got.ResourceId != "i-1" || got.Tags["a"] != "b" {
		t.Fatalf("decoded %v, want %v", got, &want)
	}
}

func TestDecodeResourceRecordRejectsCorruption(t *testing.T) {
	b, err := recordOptions.Marshal(&sirsiv1.Resource{ResourceId: "i-1", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated": b[:len(b)-2],
		"bad tag":   {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if got, err := decodeResourceRecord(bad); err == nil {
			t.Errorf("%s: decoded %v", name, got)
		}
	}
}
