package pricing

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// CheckSize checks that size is a size the catalogue knows for a
// right-sized resource type (validation.RightsizedResourceTypes): an EC2
// instance type ("m5.large"), an RDS class ("db.m5.large"), or a Lambda
// memory size in MB ("1024"). An unknown instance type or class wraps
// ErrUnknownType; SizeNames lists what the catalogue knows instead.
func (c *Catalogue) CheckSize(resourceType, size string) error {
	switch resourceType {
	case validation.ResourceEC2Instance:
		if _, ok := c.InstanceType(size); !ok || strings.HasPrefix(size, "db.") {
			return fmt.Errorf("%w: EC2 instance type %q", ErrUnknownType, size)
		}
	case validation.ResourceRDSInstance:
		if _, ok := c.InstanceType(size); !ok || !strings.HasPrefix(size, "db.") {
			return fmt.Errorf("%w: RDS instance class %q", ErrUnknownType, size)
		}
	case validation.ResourceLambdaFunction:
		mb, err := strconv.Atoi(size)
		if err != nil || mb < validation.LambdaMinMemoryMB || mb > validation.LambdaMaxMemoryMB {
			return fmt.Errorf("%w: Lambda memory %q must be a whole number of MB from %d to %d", ErrInvalidInput, size,
				validation.LambdaMinMemoryMB, validation.LambdaMaxMemoryMB)
		}
	default:
		return fmt.Errorf("%w: resource type %q has no size the optimizer proposes (one of %s)", ErrInvalidInput, resourceType,
			strings.Join(validation.RightsizedResourceTypes, ", "))
	}
	return nil
}

// SizeNames lists the instance types (aws_ec2_instance) or DB classes
// (aws_rds_instance) the catalogue knows, in its order; nil for other
// types.
func (c *Catalogue) SizeNames(resourceType string) []string {
	prefix := ""
	switch resourceType {
	case validation.ResourceEC2Instance:
	case validation.ResourceRDSInstance:
		prefix = "db."
	default:
		return nil
	}
	out := make([]string, 0, len(c.sorted))
	for _, s := range c.sorted {
		out = append(out, prefix+s.Name)
	}
	return out
}
