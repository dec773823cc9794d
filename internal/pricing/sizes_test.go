package pricing

import (
	"errors"
	"slices"
	"testing"
)

func TestCheckSize(t *testing.T) {
	c := embeddedT(t)
	for _, tc := range []struct {
		typ, size string
		want      error
	}{
		{"aws_ec2_instance", "m5.2xlarge", nil},
		{"aws_ec2_instance", "db.m5.large", ErrUnknownType},
		{"aws_ec2_instance", "m5.huge", ErrUnknownType},
		{"aws_rds_instance", "db.r6g.xlarge", nil},
		{"aws_rds_instance", "r6g.xlarge", ErrUnknownType},
		{"aws_lambda_function", "128", nil},
		{"aws_lambda_function", "10240", nil},
		{"aws_lambda_function", "127", ErrInvalidInput},
		{"aws_lambda_function", "10241", ErrInvalidInput},
		{"aws_lambda_function", "1GB", ErrInvalidInput},
		{"aws_ebs_volume", "gp3", ErrInvalidInput},
	} {
		err := c.CheckSize(tc.typ, tc.size)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("CheckSize(%s, %s) = %v, want %v", tc.typ, tc.size, err, tc.want)
		}
	}
	if names := c.SizeNames("aws_rds_instance"); !slices.Contains(names, "db.m5.large") || slices.Contains(names, "m5.large") {
		t.Errorf("RDS size names lack db.m5.large or hold m5.large: %d names", len(names))
	}
	if names := c.SizeNames("aws_ec2_instance"); !slices.Contains(names, "m5.large") {
		t.Errorf("EC2 size names lack m5.large")
	}
	if c.SizeNames("aws_lambda_function") != nil {
		t.Error("Lambda has no named sizes")
	}
}
