package tracing

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws" //nolint:staticcheck // SA1019: deprecated upstream; the successor (smithy-go's smithyoteltracing) is not served by our module proxy, see AWS below
)

// AWS adds a client span per AWS API call (service, operation, region,
// request id, HTTP status) to every client made from cfg.
//
// otelaws is marked deprecated upstream in favour of smithy-go's tracing
// adapter, whose module our module proxy does not serve; otelaws still
// builds against the SDK we use and does the job.
func AWS(cfg *aws.Config) {
	otelaws.AppendMiddlewares(&cfg.APIOptions)
}
