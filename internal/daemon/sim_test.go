package daemon

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSimServesAndPrintsExports(t *testing.T) {
	p := startAgentd(t, "sim", "-listen", "127.0.0.1:0", "-account-id", "210987654321", "-log-format", "json")
	ex := p.exports(5)
	if !strings.HasPrefix(ex["AWS_ENDPOINT_URL"], "http://127.0.0.1:") || ex["AWS_ACCESS_KEY_ID"] == "" || ex["AWS_REGION"] == "" {
		t.Fatalf("exports = %v", ex)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	client := sts.New(sts.Options{
		Region:       ex["AWS_REGION"],
		BaseEndpoint: aws.String(ex["AWS_ENDPOINT_URL"]),
		Credentials:  credentials.NewStaticCredentialsProvider(ex["AWS_ACCESS_KEY_ID"], ex["AWS_SECRET_ACCESS_KEY"], ""),
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity against agentd sim: %v", err)
	}
	if aws.ToString(out.Account) != "210987654321" {
		t.Errorf("account = %q, want the -account-id", aws.ToString(out.Account))
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
}

func TestSimFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "-account-id", "12"}, "-account-id"},
		{[]string{"sim", "-regions", " , "}, "-regions"},
		{[]string{"sim", "-listen", "10.0.0.1:0"}, "loopback"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(tt.args, &stdout, &stderr)
		if code == exitOK || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}
