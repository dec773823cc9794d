package awsclient

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// HTTPClient is the SDK's own buildable client behind OwnBody.
func HTTPClient() aws.HTTPClient { return OwnBody(awshttp.NewBuildableClient()) }

// OwnBody hands c a private copy of every request body. Without that copy
// the pinned SDK on Go 1.26 intermittently fails to read responses ("use of
// closed network connection", aws-sdk-go-v2 #2737): net/http's writer may
// still be reading the SDK's request stream when the response arrives, the
// SDK then closes that stream, the writer fails and closes the connection
// under the reader. Request bodies of the APIs the agent calls are small,
// so the copy is cheap.
func OwnBody(c aws.HTTPClient) aws.HTTPClient { return ownBody{c} }

type ownBody struct{ base aws.HTTPClient }

func (o ownBody) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("copying the request body: %w", err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	return o.base.Do(req)
}
