package discovery

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// lambdaPageSize is ListFunctions' largest MaxItems.
const lambdaPageSize = 50

// Lambda records: memory (MiB) is the size. Tags come from GetFunction,
// whose quota is 100 requests a second against ListTags' 15; both the
// simulator and moto return tags from GetFunction. AWS fills GetFunction's
// Tags only for callers also allowed lambda:ListTags (else TagsError), so
// the policy needs both actions although ListTags is never called.
var lambdaFunctions = &collector{
	typ:     validation.ResourceLambdaFunction,
	actions: []string{"lambda:GetFunction", "lambda:ListFunctions", "lambda:ListTags"},
	perItem: true,
	collect: func(ctx context.Context, d *Discoverer, region string, _ any) ([]*sirsiv1.Resource, error) {
		c := lambda.NewFromConfig(d.cfg, func(o *lambda.Options) { o.Region = region })
		p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(lambdaPageSize)})
		var listed []lambdatypes.FunctionConfiguration
		for p.HasMorePages() {
			page, err := retryThrottled(ctx, func(ctx context.Context) (*lambda.ListFunctionsOutput, error) { return p.NextPage(ctx) })
			if err != nil {
				return nil, fmt.Errorf("listing Lambda functions: %w", err)
			}
			listed = append(listed, page.Functions...)
		}
		out := make([]*sirsiv1.Resource, len(listed))
		err := forEach(ctx, len(listed), func(ctx context.Context, i int) error {
			name := aws.ToString(listed[i].FunctionName)
			got, err := retryThrottled(ctx, func(ctx context.Context) (*lambda.GetFunctionOutput, error) {
				return c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
			})
			if isCode(err, "ResourceNotFoundException") {
				return nil // deleted since ListFunctions
			}
			if err != nil {
				return fmt.Errorf("reading Lambda function %s: %w", name, err)
			}
			if got.TagsError != nil {
				return fmt.Errorf("reading the tags of Lambda function %s: %s: %s (lambda:ListTags allowed?)", name,
					aws.ToString(got.TagsError.ErrorCode), aws.ToString(got.TagsError.Message))
			}
			cfg := listed[i]
			if got.Configuration != nil {
				cfg = *got.Configuration
			}
			out[i] = functionResource(cfg, got.Tags)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return compact(out), nil
	},
}

func functionResource(f lambdatypes.FunctionConfiguration, tags map[string]string) *sirsiv1.Resource {
	name := aws.ToString(f.FunctionName)
	if tags == nil {
		tags = map[string]string{}
	}
	attrs := map[string]string{}
	putAttr(attrs, "runtime", string(f.Runtime))
	// Lambda omits Architectures for functions created before arm64
	// existed; they run on x86_64.
	arch := string(lambdatypes.ArchitectureX8664)
	if len(f.Architectures) > 0 {
		arch = string(f.Architectures[0])
	}
	attrs[resourceattr.Architecture] = arch
	putAttr(attrs, "last_modified", aws.ToString(f.LastModified))
	putAttr(attrs, "package_type", string(f.PackageType))
	return &sirsiv1.Resource{
		ResourceId: name,
		Arn:        aws.ToString(f.FunctionArn),
		Name:       name,
		Size:       strconv.Itoa(int(aws.ToInt32(f.MemorySize))),
		State:      string(f.State),
		Tags:       tags,
		Attributes: attrs,
	}
}
