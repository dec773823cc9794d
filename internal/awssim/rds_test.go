package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

func createDB(t *testing.T, h *harness, c *rds.Client, id, class, engine string, tags ...rdstypes.Tag) *rdstypes.DBInstance {
	t.Helper()
	out, err := c.CreateDBInstance(context.Background(), &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id),
		DBInstanceClass:      aws.String(class),
		Engine:               aws.String(engine),
		AllocatedStorage:     aws.Int32(20),
		MasterUsername:       aws.String("admin1"),
		MasterUserPassword:   aws.String("correct-horse-9"),
		Tags:                 tags,
	})
	if err != nil {
		t.Fatalf("CreateDBInstance %s: %v", id, err)
	}
	h.checkLast(t, "rds", "CreateDBInstance")
	return out.DBInstance
}

func describeDB(t *testing.T, h *harness, c *rds.Client, id string) rdstypes.DBInstance {
	t.Helper()
	out, err := c.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeDBInstances %s: %v", id, err)
	}
	h.checkLast(t, "rds", "DescribeDBInstances")
	if len(out.DBInstances) != 1 {
		t.Fatalf("DescribeDBInstances %s: %d instances", id, len(out.DBInstances))
	}
	return out.DBInstances[0]
}

func TestRDSLifecycle(t *testing.T) {
	h := newHarness(t, time.Minute)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()

	db := createDB(t, h, c, "Orders-DB", "db.t3.medium", "postgres", rdstypes.Tag{Key: aws.String(ProfileTag), Value: aws.String("idle")})
	if aws.ToString(db.DBInstanceIdentifier) != "orders-db" || aws.ToString(db.DBInstanceStatus) != "creating" || db.Endpoint != nil {
		t.Fatalf("after create: id %q status %q endpoint %v; want orders-db, creating, no endpoint",
			aws.ToString(db.DBInstanceIdentifier), aws.ToString(db.DBInstanceStatus), db.Endpoint)
	}
	if got := aws.ToString(db.DBInstanceArn); got != "arn:aws:rds:us-east-1:123456789012:db:orders-db" {
		t.Fatalf("ARN = %s", got)
	}
	if _, err := c.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")}); err == nil {
		t.Fatal("stopping a creating DB instance succeeded")
	} else {
		wantAPIError(t, err, "InvalidDBInstanceState", http.StatusBadRequest)
		h.checkLast(t, "rds", "StopDBInstance")
	}
	h.clock.Advance(time.Minute)
	got := describeDB(t, h, c, "orders-db")
	if aws.ToString(got.DBInstanceStatus) != "available" || got.Endpoint == nil || aws.ToInt32(got.Endpoint.Port) != 5432 {
		t.Fatalf("after the state delay: status %q endpoint %+v, want available on port 5432", aws.ToString(got.DBInstanceStatus), got.Endpoint)
	}

	// Without ApplyImmediately the change waits for the maintenance window
	// (default sun:05:00-sun:05:30; the clock starts on a Wednesday).
	mod, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), DBInstanceClass: aws.String("db.t3.small")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "rds", "ModifyDBInstance")
	if aws.ToString(mod.DBInstance.DBInstanceClass) != "db.t3.medium" || mod.DBInstance.PendingModifiedValues == nil ||
		aws.ToString(mod.DBInstance.PendingModifiedValues.DBInstanceClass) != "db.t3.small" || aws.ToString(mod.DBInstance.DBInstanceStatus) != "available" {
		t.Fatalf("deferred modify: class %q pending %+v status %q", aws.ToString(mod.DBInstance.DBInstanceClass),
			mod.DBInstance.PendingModifiedValues, aws.ToString(mod.DBInstance.DBInstanceStatus))
	}
	h.clock.Advance(24 * time.Hour)
	if got := describeDB(t, h, c, "orders-db"); aws.ToString(got.DBInstanceClass) != "db.t3.medium" {
		t.Fatalf("class changed before the maintenance window: %s", aws.ToString(got.DBInstanceClass))
	}
	window := time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)
	h.clock.Advance(window.Sub(h.clock.Now()) + time.Minute)
	got = describeDB(t, h, c, "orders-db")
	if aws.ToString(got.DBInstanceClass) != "db.t3.small" || aws.ToString(got.PendingModifiedValues.DBInstanceClass) != "" {
		t.Fatalf("after the window: class %q pending %+v", aws.ToString(got.DBInstanceClass), got.PendingModifiedValues)
	}

	mod, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"),
		DBInstanceClass: aws.String("db.m6g.large"), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "rds", "ModifyDBInstance")
	if aws.ToString(mod.DBInstance.DBInstanceStatus) != "modifying" || aws.ToString(mod.DBInstance.PendingModifiedValues.DBInstanceClass) != "db.m6g.large" {
		t.Fatalf("immediate modify: status %q pending %+v", aws.ToString(mod.DBInstance.DBInstanceStatus), mod.DBInstance.PendingModifiedValues)
	}
	if _, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), DBInstanceClass: aws.String("db.t3.micro")}); err == nil {
		t.Fatal("modifying a modifying DB instance succeeded")
	} else {
		wantAPIError(t, err, "InvalidDBInstanceState", http.StatusBadRequest)
	}
	h.clock.Advance(time.Minute)
	if got := describeDB(t, h, c, "orders-db"); aws.ToString(got.DBInstanceClass) != "db.m6g.large" || aws.ToString(got.DBInstanceStatus) != "available" {
		t.Fatalf("after immediate modify: %s %s", aws.ToString(got.DBInstanceClass), aws.ToString(got.DBInstanceStatus))
	}

	stop, err := c.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "rds", "StopDBInstance")
	if aws.ToString(stop.DBInstance.DBInstanceStatus) != "stopping" {
		t.Fatalf("stop: status %q", aws.ToString(stop.DBInstance.DBInstanceStatus))
	}
	h.clock.Advance(time.Minute)
	if _, err := c.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")}); err == nil {
		t.Fatal("stopping a stopped DB instance succeeded")
	}
	start, err := c.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "rds", "StartDBInstance")
	if aws.ToString(start.DBInstance.DBInstanceStatus) != "starting" {
		t.Fatalf("start: status %q", aws.ToString(start.DBInstance.DBInstanceStatus))
	}
	if _, err := c.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")}); err == nil {
		t.Fatal("starting a starting DB instance succeeded")
	} else {
		wantAPIError(t, err, "InvalidDBInstanceState", http.StatusBadRequest)
	}
	h.clock.Advance(time.Minute)

	dbs := h.sim.DBInstances(h.sim.AccountID(), "us-east-1")
	if len(dbs) != 1 || dbs[0].Profile != ProfileIdle || dbs[0].Status != "available" || dbs[0].Class != "db.m6g.large" {
		t.Fatalf("DBInstances = %+v, want one available idle db.m6g.large", dbs)
	}

	// The history CE and CloudWatch read: state and class over time.
	var trail []string
	for _, e := range h.sim.Events(h.sim.AccountID()) {
		if e.Service == "rds" {
			trail = append(trail, string(e.Kind)+":"+e.State+":"+e.Type+"@"+e.Time.Sub(harnessEpoch).String())
		}
	}
	want := []string{
		"state:creating:db.t3.medium@0s",
		"state:available:db.t3.medium@1m0s",
		"state:modifying:db.t3.medium@" + window.Sub(harnessEpoch).String(),
		"modified:available:db.t3.small@" + window.Add(time.Minute).Sub(harnessEpoch).String(),
	}
	if !slices.Equal(trail[:4], want) {
		t.Fatalf("history starts\n%v\nwant\n%v", trail[:4], want)
	}
	tail := trail[4:]
	wantKinds := []string{"state:modifying:db.t3.small", "modified:available:db.m6g.large", "state:stopping:db.m6g.large",
		"state:stopped:db.m6g.large", "state:starting:db.m6g.large", "state:available:db.m6g.large"}
	if len(tail) != len(wantKinds) {
		t.Fatalf("history tail %v, want %v", tail, wantKinds)
	}
	for i, w := range wantKinds {
		if !strings.HasPrefix(tail[i], w+"@") {
			t.Fatalf("history tail %v, want %v", tail, wantKinds)
		}
	}
}

func TestRDSErrors(t *testing.T) {
	h := newHarness(t, 0)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()
	createDB(t, h, c, "db1", "db.t3.micro", "mysql")

	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
	var nf *rdstypes.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Fatalf("SDK did not map the error to DBInstanceNotFoundFault: %T", err)
	}
	h.checkLast(t, "rds", "DescribeDBInstances")

	cases := []struct {
		name string
		in   *rds.CreateDBInstanceInput
		code string
	}{
		{"duplicate", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("DB1"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}, "DBInstanceAlreadyExists"},
		{"bad identifier", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("1db--x-"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}, "InvalidParameterValue"},
		{"bad engine", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mongodb"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}, "InvalidParameterValue"},
		{"small storage", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(5), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}, "InvalidParameterValue"},
		{"multi-az with az", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123"),
			MultiAZ: aws.Bool(true), AvailabilityZone: aws.String("us-east-1b")}, "InvalidParameterCombination"},
		{"iops on gp2", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123"),
			StorageType: aws.String("gp2"), Iops: aws.Int32(3000)}, "InvalidParameterCombination"},
		{"no password", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin")}, "InvalidParameterValue"},
		{"malformed class", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db-t3.micro"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}, "InvalidParameterValue"},
		{"class that does not exist", &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db2"), DBInstanceClass: aws.String("db.t3.colossal"),
			Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}, "InvalidParameterCombination"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateDBInstance(ctx, tc.in)
			wantAPIError(t, err, tc.code, http.StatusBadRequest)
			h.checkLast(t, "rds", "CreateDBInstance")
		})
	}
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(10)})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ghost"), DBInstanceClass: aws.String("db.t3.small")})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
	_, err = c.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("db1")})
	wantAPIError(t, err, "InvalidDBInstanceState", http.StatusBadRequest)

	// A well-formed class RDS does not offer (db.m5 has no 3xlarge) is
	// refused with the combination RDS names, and nothing changes.
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.m5.3xlarge"), ApplyImmediately: aws.Bool(true)})
	wantAPIError(t, err, "InvalidParameterCombination", http.StatusBadRequest)
	if want := "DBInstanceClass=db.m5.3xlarge, Engine=mysql, EngineVersion=8.0.39, LicenseModel=general-public-license"; !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q does not name %s", err, want)
	}
	if live := describeDB(t, h, c, "db1"); aws.ToString(live.DBInstanceClass) != "db.t3.micro" || aws.ToString(live.DBInstanceStatus) != "available" || live.PendingModifiedValues.DBInstanceClass != nil {
		t.Fatalf("a refused class changed db1: %s %s pending %v", aws.ToString(live.DBInstanceStatus), aws.ToString(live.DBInstanceClass), live.PendingModifiedValues.DBInstanceClass)
	}

	if err := h.sim.FailNext(FailNextSpec{Service: "rds", Action: "ModifyDBInstance", ResourceID: "db1", Code: "InvalidParameterCombination", Status: 400}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.t3.small"), ApplyImmediately: aws.Bool(true)})
	wantAPIError(t, err, "InvalidParameterCombination", http.StatusBadRequest)
	if _, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), DBInstanceClass: aws.String("db.t3.small"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatalf("the injected failure was not one-shot: %v", err)
	}
}

func TestRDSPaginationFiltersAndTags(t *testing.T) {
	h := newHarness(t, 0)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()
	var want []string
	for i := range 25 {
		id := "db-" + string(rune('a'+i))
		engine := "mysql"
		if i%5 == 0 {
			engine = "postgres"
		}
		createDB(t, h, c, id, "db.t3.micro", engine)
		want = append(want, id)
	}
	var got []string
	pages := 0
	p := rds.NewDescribeDBInstancesPaginator(c, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.checkLast(t, "rds", "DescribeDBInstances")
		pages++
		for _, db := range out.DBInstances {
			got = append(got, aws.ToString(db.DBInstanceIdentifier))
		}
	}
	if pages != 2 || !slices.Equal(got, want) {
		t.Fatalf("pages=%d ids=%v, want 2 pages of %v", pages, got, want)
	}

	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("engine"), Values: []string{"postgres"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DBInstances) != 5 {
		t.Fatalf("engine=postgres matched %d, want 5", len(out.DBInstances))
	}
	out, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("db-instance-id"),
		Values: []string{"arn:aws:rds:us-east-1:123456789012:db:db-c", "db-d"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DBInstances) != 2 || aws.ToString(out.DBInstances[0].DBInstanceIdentifier) != "db-c" {
		t.Fatalf("db-instance-id filter matched %d", len(out.DBInstances))
	}
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)

	arn := aws.String("arn:aws:rds:us-east-1:123456789012:db:db-a")
	if _, err := c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: arn, Tags: []rdstypes.Tag{
		{Key: aws.String("team"), Value: aws.String("payments")}, {Key: aws.String(ProfileTag), Value: aws.String("spiky")}}}); err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "rds", "AddTagsToResource")
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: arn})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "rds", "ListTagsForResource")
	if len(tags.TagList) != 2 || aws.ToString(tags.TagList[0].Value) != "payments" {
		t.Fatalf("tags = %+v", tags.TagList)
	}
	if db := describeDB(t, h, c, "db-a"); len(db.TagList) != 2 {
		t.Fatalf("DescribeDBInstances TagList = %+v", db.TagList)
	}
	if dbs := h.sim.DBInstances(h.sim.AccountID(), "us-east-1"); dbs[0].Profile != ProfileSpiky {
		t.Fatalf("profile tag not applied: %q", dbs[0].Profile)
	}
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:123456789012:db:zzz")})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
}

func TestRDSProtocolCanaries(t *testing.T) {
	h := newHarness(t, 0)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()
	arn := aws.String("arn:aws:rds:us-east-1:123456789012:db:canary")
	id := aws.String("canary")
	calls := []struct {
		action string
		call   func() error
	}{
		{"CreateDBInstance", func() error {
			_, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: id, DBInstanceClass: aws.String("db.t3.micro"),
				Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")})
			return err
		}},
		{"DescribeDBInstances", func() error { _, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}); return err }},
		{"ModifyDBInstance", func() error {
			_, err := c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: id, DBInstanceClass: aws.String("db.t3.small"), ApplyImmediately: aws.Bool(true)})
			return err
		}},
		{"StopDBInstance", func() error {
			_, err := c.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: id})
			return err
		}},
		{"StartDBInstance", func() error {
			_, err := c.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: id})
			return err
		}},
		{"AddTagsToResource", func() error {
			_, err := c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: arn, Tags: []rdstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{"ListTagsForResource", func() error {
			_, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: arn})
			return err
		}},
		{"RemoveTagsFromResource", func() error {
			_, err := c.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: arn, TagKeys: []string{"k"}})
			return err
		}},
		{"DeleteDBInstance", func() error {
			_, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true)})
			return err
		}},
	}
	for _, call := range calls {
		t.Run(call.action, func(t *testing.T) {
			h.rec.Reset()
			if err := call.call(); err != nil {
				t.Fatal(err)
			}
			ex, _ := h.rec.Last()
			canary{method: "POST", path: "/", contentType: "application/x-www-form-urlencoded", action: call.action, version: "2014-10-31"}.check(t, ex)
			h.checkLast(t, "rds", call.action)
		})
	}
}

func TestRDSThroughCLI(t *testing.T) {
	h := newHarness(t, 0)
	awstest.CLI(t, h.url, "rds", "create-db-instance", "--db-instance-identifier", "cli-db", "--db-instance-class", "db.t4g.micro",
		"--engine", "mysql", "--allocated-storage", "20", "--master-username", "admin", "--master-user-password", "password123",
		"--tags", "Key=team,Value=data")
	out := awstest.CLI(t, h.url, "rds", "describe-db-instances", "--db-instance-identifier", "cli-db")
	var doc struct {
		DBInstances []struct {
			DBInstanceIdentifier, DBInstanceClass, DBInstanceStatus string
			TagList                                                 []struct{ Key, Value string }
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("CLI output is not JSON: %v: %s", err, out)
	}
	if len(doc.DBInstances) != 1 || doc.DBInstances[0].DBInstanceClass != "db.t4g.micro" || doc.DBInstances[0].DBInstanceStatus != "available" ||
		len(doc.DBInstances[0].TagList) != 1 {
		t.Fatalf("CLI saw %+v", doc.DBInstances)
	}
	awstest.CLI(t, h.url, "rds", "stop-db-instance", "--db-instance-identifier", "cli-db")
	res := awstest.RunCLI(t, h.url, "rds", "start-db-instance", "--db-instance-identifier", "nope")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "DBInstanceNotFound") {
		t.Fatalf("want DBInstanceNotFound, got exit %d: %s", res.ExitCode, res.Stderr)
	}
	res = awstest.RunCLI(t, h.url, "rds", "delete-db-instance", "--db-instance-identifier", "cli-db")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "InvalidParameterCombination") {
		t.Fatalf("a delete with neither a final snapshot nor skip: want InvalidParameterCombination, got exit %d: %s", res.ExitCode, res.Stderr)
	}
	out = awstest.CLI(t, h.url, "rds", "delete-db-instance", "--db-instance-identifier", "cli-db", "--skip-final-snapshot")
	var del struct {
		DBInstance struct{ DBInstanceStatus string }
	}
	if err := json.Unmarshal(out, &del); err != nil || del.DBInstance.DBInstanceStatus != "deleting" {
		t.Fatalf("delete-db-instance answered %s (%v), want status deleting", out, err)
	}
	if n := checkRecorded(t, h.served, "rds"); n < 6 {
		t.Fatalf("validated %d CLI responses, want at least 6", n)
	}
}

// FuzzRDSRequest feeds arbitrary form bodies to the RDS endpoint: it must
// never panic and must answer either a valid response or a query-protocol
// error envelope.
func FuzzRDSRequest(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeDBInstances&Version=2014-10-31",
		"Action=DescribeDBInstances&Version=2014-10-31&MaxRecords=abc&Marker=%%%",
		"Action=DescribeDBInstances&Version=2014-10-31&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.01=x",
		"Action=CreateDBInstance&Version=2014-10-31&DBInstanceIdentifier=a&DBInstanceClass=db.t3.micro&Engine=mysql&AllocatedStorage=20&MasterUsername=u&MasterUserPassword=12345678&Tags.Tag.1.Key=k",
		"Action=CreateDBInstance&Version=2014-10-31&DBInstanceIdentifier=a&PreferredMaintenanceWindow=xyz:99:99-sun:00:00",
		"Action=ModifyDBInstance&Version=2014-10-31&DBInstanceIdentifier=a&DBInstanceClass=db.x.y&ApplyImmediately=maybe",
		"Action=AddTagsToResource&Version=2014-10-31&ResourceName=arn:aws:rds:us-east-1:123456789012:db:a&Tags.Tag.99999999.Key=x",
		"Action=Nope&Version=1",
		"%zz",
	} {
		f.Add(seed)
	}
	sim, err := New(Options{Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		f.Fatal(err)
	}
	handler := sim.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := signedRequest("POST", "http://sim/", "rds", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code == http.StatusOK {
			if !strings.Contains(w.Body.String(), "<ResponseMetadata><RequestId>") {
				t.Fatalf("200 without the query envelope: %s", w.Body)
			}
			return
		}
		if w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		m, err := awstest.LoadModel("rds")
		if err != nil {
			if !strings.Contains(w.Body.String(), "<ErrorResponse>") {
				t.Fatalf("error without the query envelope: %s", w.Body)
			}
			return
		}
		if _, err := m.ValidateError(w.Code, w.Header(), w.Body.Bytes()); err != nil {
			t.Fatalf("%v for %q", err, body)
		}
	})
}

// BenchmarkDescribeDBInstances measures full 100-record pages served per
// second through the SDK, throttling off, for 500 DB instances.
func BenchmarkDescribeDBInstances(b *testing.B) {
	h := newHarness(b, 0)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()
	for i := range 500 {
		if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(fmt.Sprintf("bench-%04d", i)),
			DBInstanceClass: aws.String("db.m6g.large"), Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(100),
			MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}); err != nil {
			b.Fatal(err)
		}
	}
	h.rec.Reset()
	// The recorder would hold every page; measure the simulator, not it.
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	bc := rds.NewFromConfig(sdkConfig(h.url, "us-east-1", nil), func(o *rds.Options) { o.HTTPClient = awsclient.OwnBody(&http.Client{Transport: tr}) })
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		out, err := bc.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(100)})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.DBInstances) != 100 {
			b.Fatalf("page of %d", len(out.DBInstances))
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
}

// A DB instance's due transitions reach the account history through the
// region's settling, without another RDS call: Cost Explorer and CloudWatch
// read that history.
func TestRDSTransitionsSettleWithoutRDSCalls(t *testing.T) {
	h := newHarness(t, time.Minute)
	createDB(t, h, rds.NewFromConfig(h.cfg), "ledger", "db.t3.medium", "mysql")
	available := func() bool {
		for _, e := range h.sim.Events("123456789012") {
			if e.ResourceID == "ledger" && e.State == "available" {
				return true
			}
		}
		return false
	}
	if available() {
		t.Fatal("available before the state delay passed")
	}
	h.clock.Advance(2 * time.Minute)
	if !available() {
		t.Fatal("no available event after the state delay, with no RDS call in between")
	}
}

func TestRDSRemoveTagsFromResource(t *testing.T) {
	h := newHarness(t, 0)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()
	createDB(t, h, c, "orders", "db.t3.micro", "postgres",
		rdstypes.Tag{Key: aws.String("team"), Value: aws.String("payments")}, rdstypes.Tag{Key: aws.String("env"), Value: aws.String("prod")},
		rdstypes.Tag{Key: aws.String(ProfileTag), Value: aws.String("idle")})
	arn := aws.String("arn:aws:rds:us-east-1:123456789012:db:orders")
	// A key the instance lacks is ignored.
	if _, err := c.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: arn, TagKeys: []string{"team", ProfileTag, "absent"}}); err != nil {
		t.Fatalf("RemoveTagsFromResource: %v", err)
	}
	h.checkLast(t, "rds", "RemoveTagsFromResource")
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "env" || aws.ToString(tags.TagList[0].Value) != "prod" {
		t.Fatalf("tags after removal = %+v, want env=prod only", tags.TagList)
	}
	want := map[string]string{"env": "prod"}
	if got := lastTags(t, h.sim, "orders"); !maps.Equal(got, want) {
		t.Errorf("change event tags = %v, want %v", got, want)
	}
	if p := h.sim.DBInstances(h.sim.AccountID(), "us-east-1")[0].Profile; p != "" {
		t.Errorf("profile after removing its tag = %q, want the default", p)
	}
	_, err = c.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:123456789012:db:missing"), TagKeys: []string{"env"}})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
	h.checkLast(t, "rds", "RemoveTagsFromResource")
}

// TestRDSDeleteDBInstance: DeleteDBInstance wants a final snapshot or
// SkipFinalSnapshot (not both), shows the instance deleting for the state
// delay, refuses changes to it and a second delete meanwhile, then the
// instance is gone for every call, with a deletion event for CloudWatch
// and Cost Explorer.
func TestRDSDeleteDBInstance(t *testing.T) {
	h := newHarness(t, time.Minute)
	c := rds.NewFromConfig(h.cfg)
	ctx := context.Background()
	createDB(t, h, c, "orders", "db.t3.micro", "postgres")
	h.clock.Advance(time.Minute)
	id := aws.String("orders")

	_, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id})
	wantAPIError(t, err, "InvalidParameterCombination", http.StatusBadRequest)
	h.checkLast(t, "rds", "DeleteDBInstance")
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true), FinalDBSnapshotIdentifier: aws.String("final")})
	wantAPIError(t, err, "InvalidParameterCombination", http.StatusBadRequest)
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, FinalDBSnapshotIdentifier: aws.String("-bad")})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
	if live := describeDB(t, h, c, "orders"); aws.ToString(live.DBInstanceStatus) != "available" {
		t.Fatalf("a refused delete left the instance %s", aws.ToString(live.DBInstanceStatus))
	}

	out, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DeleteDBInstance: %v", err)
	}
	h.checkLast(t, "rds", "DeleteDBInstance")
	if st := aws.ToString(out.DBInstance.DBInstanceStatus); st != "deleting" {
		t.Fatalf("DeleteDBInstance answered status %q, want deleting", st)
	}
	if live := describeDB(t, h, c, "orders"); aws.ToString(live.DBInstanceStatus) != "deleting" {
		t.Fatalf("described as %s while deleting", aws.ToString(live.DBInstanceStatus))
	}
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: id, DBInstanceClass: aws.String("db.t3.small"), ApplyImmediately: aws.Bool(true)})
	wantAPIError(t, err, "InvalidDBInstanceState", http.StatusBadRequest)
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true)})
	wantAPIError(t, err, "InvalidDBInstanceState", http.StatusBadRequest)

	h.clock.Advance(time.Minute)
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: id})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
	h.checkLast(t, "rds", "DescribeDBInstances")
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, FinalDBSnapshotIdentifier: aws.String("orders-final")})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
	h.checkLast(t, "rds", "DeleteDBInstance")
	_, err = c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:123456789012:db:orders"),
		Tags: []rdstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
	if dbs := h.sim.DBInstances(h.sim.AccountID(), "us-east-1"); len(dbs) != 0 {
		t.Fatalf("%d DB instances left after the delete", len(dbs))
	}
	var kinds []EventKind
	for _, e := range h.sim.Events(h.sim.AccountID()) {
		if e.ResourceID == "orders" {
			kinds = append(kinds, e.Kind)
		}
	}
	if len(kinds) == 0 || kinds[len(kinds)-1] != EventDeleted {
		t.Fatalf("events of orders end %v, want a deletion last", kinds)
	}
}
