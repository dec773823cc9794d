package loadgen

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// The benchmark tenant's AWS account and regions.
const (
	accountID = "123456789012"
	// seedBatch is the upserts of one ReportInventory call, as an agent's
	// discovery sends them (controlplane.MaxReportUpserts allows 5000).
	seedBatch = 1000
)

var (
	regions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
	types   = []string{"aws_ec2_instance", "aws_ebs_volume", "aws_rds_instance", "aws_lambda_function"}
)

// Resources are the benchmark inventory's resources from..to-1: spread
// over four types and regions, each with two tags and an attribute, as
// discovery reports them.
func Resources(from, to int) []*sirsiv1.Resource {
	out := make([]*sirsiv1.Resource, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, &sirsiv1.Resource{
			ResourceId: fmt.Sprintf("i-%017x", i), AccountId: accountID, Region: regions[i%len(regions)],
			Type: types[i%len(types)], Name: fmt.Sprintf("web-%d", i), Size: "m5.large", State: "running",
			Tags: map[string]string{"env": "prod", "team": fmt.Sprintf("t%d", i%17)}, MonthlyCost: money.USDFromFloat(70.08),
			Attributes: map[string]string{"architecture": "x86_64"},
		})
	}
	return out
}

// seedTenant creates a tenant with a cloud account through the operator's
// client and fills its inventory with n resources the way an agent does:
// it enrolls with a single-use token over the agent listener (agentAddr,
// TLS with caPEM) and reports the inventory in batches with its client
// certificate. It returns the tenant's id.
func seedTenant(ctx context.Context, op sirsiv1.ManagementServiceClient, agentAddr string, caPEM []byte, n int) (string, error) {
	tn, err := op.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "loadgen", Tier: sirsiv1.Tier_TIER_STANDARD}})
	if err != nil {
		return "", fmt.Errorf("seeding: CreateTenant: %w", err)
	}
	tenantID := tn.GetTenant().GetId()
	acct, err := op.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tenantID, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: accountID, Regions: regions,
		RoleArn: "arn:aws:iam::" + accountID + ":role/sirsi-agent", ExternalId: "loadgen-external-id",
	}})
	if err != nil {
		return "", fmt.Errorf("seeding: CreateCloudAccount: %w", err)
	}
	et, err := op.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{
		TenantId: tenantID, CloudAccountId: acct.GetCloudAccount().GetId(), Ttl: durationpb.New(time.Hour), MaxUses: 1,
	})
	if err != nil {
		return "", fmt.Errorf("seeding: CreateEnrollmentToken: %w", err)
	}
	agent, closeAgent, err := enrollAgent(ctx, agentAddr, caPEM, et.GetEnrollmentToken().GetToken())
	if err != nil {
		return "", err
	}
	defer closeAgent()
	now := timestamppb.Now()
	for off := 0; off < n; off += seedBatch {
		id := make([]byte, 8)
		_, _ = rand.Read(id) // crypto/rand.Read never fails on supported platforms
		_, err := agent.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{
			BatchId: "loadgen-" + hex.EncodeToString(id), Upserts: Resources(off, min(off+seedBatch, n)), ObserveTime: now,
		})
		if err != nil {
			return "", fmt.Errorf("seeding: ReportInventory of resources %d..%d: %w", off, min(off+seedBatch, n)-1, err)
		}
	}
	return tenantID, nil
}

// enrollAgent enrolls as an agent with a fresh key and returns an
// AgentService client presenting the certificate it got.
func enrollAgent(ctx context.Context, addr string, caPEM []byte, token string) (sirsiv1.AgentServiceClient, func(), error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, errors.New("seeding: the server's CA file holds no PEM certificate")
	}
	dial := func(cert *tls.Certificate) (*grpc.ClientConn, error) {
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	}
	key, err := pki.NewClientKey()
	if err != nil {
		return nil, nil, fmt.Errorf("seeding: agent key: %w", err)
	}
	csr, err := pki.CreateCSRPEM(key, "loadgen")
	if err != nil {
		return nil, nil, fmt.Errorf("seeding: agent CSR: %w", err)
	}
	conn, err := dial(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("seeding: dial the agent listener %s: %w", addr, err)
	}
	resp, err := sirsiv1.NewAgentServiceClient(conn).Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: token, CsrPem: string(csr), Hostname: "loadgen", Version: "0.0.0-loadgen"})
	conn.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("seeding: Enroll: %w", err)
	}
	block, _ := pem.Decode([]byte(resp.GetCertificatePem()))
	if block == nil {
		return nil, nil, errors.New("seeding: Enroll answered no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("seeding: the enrolled certificate: %w", err)
	}
	conn, err = dial(&tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf})
	if err != nil {
		return nil, nil, fmt.Errorf("seeding: dial the agent listener %s: %w", addr, err)
	}
	return sirsiv1.NewAgentServiceClient(conn), func() { conn.Close() }, nil
}
