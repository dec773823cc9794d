package controlplane_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

// withPostgres is a cptest option for a fresh database in the shared test
// cluster (skipped visibly without PostgreSQL, failed under CI=true).
func withPostgres(t *testing.T) cptest.Option {
	t.Helper()
	url := pgtest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return cptest.WithStore(st)
}

// The agent cross-tenant matrix on PostgreSQL: the store's tenant scoping
// is SQL written once for two dialects, so each dialect gets the matrix.
func TestAgentCrossTenantPostgres(t *testing.T) {
	t.Run("payloads", func(t *testing.T) { foreignTenantPayloads(t, withPostgres(t)) })
	t.Run("other RPCs", func(t *testing.T) { agentCrossTenantOtherRPCs(t, withPostgres(t)) })
}

func TestAgentCrossTenantOtherRPCs(t *testing.T) { agentCrossTenantOtherRPCs(t) }

// agentCrossTenantOtherRPCs covers the AgentService RPCs that
// foreignTenantPayloads does not (utilisation, costs, heartbeat,
// certificate renewal, action plans, action reservations): an agent of
// tenant A that names tenant B's objects neither reads nor writes them.
func agentCrossTenantOtherRPCs(t *testing.T, opts ...cptest.Option) {
	e := startAgentEnv(t, opts...)
	ctx := context.Background()
	tnB := e.NewTenant(t, "bravo")
	acctB := e.NewCloudAccount(t, tnB.ID, "222222222222")
	agA := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	agB := e.EnrollAgent(t, tnB.ID, acctB.Id)
	polB, err := tnB.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: tnB.ID, Name: "b-all"}})
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC()
	_, err = agA.Client.ReportUtilization(ctx, &sirsiv1.ReportUtilizationRequest{BatchId: "u-1", Summaries: []*sirsiv1.UtilizationSummary{{
		ResourceId: "i-0bbb", TenantId: tnB.ID, CloudAccountId: acctB.Id, Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95",
		Value: 1, Coverage: 1, WindowStart: timestamppb.New(now.Add(-time.Hour)), WindowEnd: timestamppb.New(now),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	utilB, err := tnB.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{TenantId: tnB.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(utilB.Summaries) != 0 {
		t.Fatalf("A's agent wrote utilisation into B: %v", utilB.Summaries)
	}
	utilA, err := e.tn.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{TenantId: e.tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(utilA.Summaries) != 1 || utilA.Summaries[0].TenantId != e.tn.ID || utilA.Summaries[0].CloudAccountId != e.acct.Id {
		t.Fatalf("A's utilisation = %v", utilA.Summaries)
	}

	day := now.AddDate(0, 0, -2).Format("2006-01-02")
	_, err = agA.Client.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "c-1", Records: []*sirsiv1.CostRecord{
		{Day: day, AccountId: "222222222222", Service: "Amazon Elastic Compute Cloud - Compute", Region: "us-east-1", Amount: money.USDFromFloat(123)},
	}})
	if code := status.Code(err); code != codes.OK && code != codes.InvalidArgument {
		t.Fatalf("costs naming B's AWS account: %v", err)
	}
	costB, err := tnB.Viewer.GetCostSummary(ctx, &sirsiv1.GetCostSummaryRequest{
		TenantId: tnB.ID, Start: now.AddDate(0, 0, -10).Format("2006-01-02"), End: now.AddDate(0, 0, 1).Format("2006-01-02"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if costB.Total != nil {
		t.Fatalf("A's agent wrote costs into B: total %v", costB.Total)
	}

	if _, err := agA.Client.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{Version: "1", Hostname: "a-host"}); err != nil {
		t.Fatal(err)
	}
	agentsB, err := tnB.Viewer.ListAgents(ctx, &sirsiv1.ListAgentsRequest{TenantId: tnB.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(agentsB.Agents) != 1 || agentsB.Agents[0].Id != agB.ID {
		t.Fatalf("B's agents = %v", agentsB.Agents)
	}

	key, csr := cptest.NewCSR(t)
	renewed, err := agA.Client.RenewCertificate(ctx, &sirsiv1.RenewCertificateRequest{CsrPem: csr})
	if err != nil {
		t.Fatal(err)
	}
	cert := cptest.KeyPair(t, key, renewed.CertificatePem)
	asg, err := e.DialAgent(t, &cert).GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if asg.CloudAccount.GetId() != e.acct.Id || asg.CloudAccount.GetTenantId() != e.tn.ID || len(asg.Policies) != 0 || len(asg.ApprovedPlans) != 0 || len(asg.ApprovedRecommendations) != 0 {
		t.Fatalf("assignment with A's renewed certificate = %v", asg)
	}

	_, err = agA.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "p-1", Plan: &sirsiv1.ActionPlan{
		Id: "plan-1", TenantId: tnB.ID, CloudAccountId: acctB.Id, PolicyId: polB.OptimizationPolicy.Id,
		Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING,
	}})
	if status.Code(err) == codes.OK {
		t.Fatal("A's agent saved a plan under B's policy")
	}
	res, err := agA.Client.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: "r-1", PolicyId: polB.OptimizationPolicy.Id, Count: 1})
	if status.Code(err) == codes.OK {
		t.Fatalf("A's agent reserved actions under B's policy: %v", res)
	}

	for _, ev := range auditEvents(t, e.Env, tnB.ID, "") {
		if ev.Actor == "agent:"+agA.ID {
			t.Errorf("A's agent appears in B's audit log: %v", ev)
		}
	}
}
