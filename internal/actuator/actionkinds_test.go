package actuator

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/google/uuid"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

const (
	bigDBClass   = "db.m5.xlarge"
	smallDBClass = "db.m5.large"
)

// clients reaches a simulator with every service the actuator calls.
type clients struct {
	ec2    *ec2.Client
	rds    *rds.Client
	lambda *lambda.Client
}

func newClients(t testing.TB, url string) clients {
	cfg := awsConfig(t, url)
	return clients{ec2: ec2.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg)}
}

// withServices adds the RDS and Lambda clients to cfg.
func (c clients) withServices(cfg Config) Config {
	cfg.RDS = func(string) RDSAPI { return c.rds }
	cfg.Lambda = func(string) LambdaAPI { return c.lambda }
	return cfg
}

// kind is one of the actions added for issue 13, with how to create its
// resource, break it, and tell done from left-as-it-was.
type kind struct {
	name string
	// create makes the resource and returns the request acting on it;
	// settle lets the simulator's clock pass its transitions.
	create func(t testing.TB, c clients, settle func()) Request
	// inject makes the flow fail after it started changing things.
	inject func(t testing.TB, sim *awssim.Sim, req Request)
	// done and kept check AWS's view after success and after a rollback.
	done, kept func(t testing.TB, c clients, req Request)
	// failure is the text the injected failure leaves in the error.
	failure string
	// vanish deletes the resource as a person would; settle lets the
	// deletion complete.
	vanish func(t testing.TB, c clients, req Request, settle func())
}

// vanishers delete a resource of each action kind as a person would.
var (
	vanishVolume = func(t testing.TB, c clients, req Request, _ func()) {
		if _, err := c.ec2.DeleteVolume(context.Background(), &ec2.DeleteVolumeInput{VolumeId: aws.String(req.ResourceID)}); err != nil && awsCode(err) != "InvalidVolume.NotFound" {
			t.Fatalf("deleting volume %s: %v", req.ResourceID, err)
		}
	}
	vanishDB = func(t testing.TB, c clients, req Request, settle func()) {
		if _, err := c.rds.DeleteDBInstance(context.Background(), &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(req.ResourceID),
			SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			t.Fatalf("deleting DB instance %s: %v", req.ResourceID, err)
		}
		settle()
	}
	vanishFunction = func(t testing.TB, c clients, req Request, _ func()) {
		if _, err := c.lambda.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(req.ResourceID)}); err != nil {
			t.Fatalf("deleting function %s: %v", req.ResourceID, err)
		}
	}
)

var kinds = []kind{
	{
		name: "snapshot_and_delete",
		create: func(t testing.TB, c clients, settle func()) Request {
			out, err := c.ec2.CreateVolume(context.Background(), &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(100),
				VolumeType: ec2types.VolumeTypeGp2, TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume,
					Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}}})
			if err != nil {
				t.Fatal(err)
			}
			settle()
			return Request{ID: uuid.NewString(), RecommendationID: "rec-vol", ResourceID: aws.ToString(out.VolumeId), ResourceType: ResourceEBSVolume,
				Region: region, Action: ActionSnapshotAndDelete, FromSize: "gp2:100", RollbackOnFailure: true}
		},
		inject: func(_ testing.TB, sim *awssim.Sim, req Request) { sim.FailSnapshots(req.ResourceID, true) },
		done: func(t testing.TB, c clients, req Request) {
			if _, err := c.ec2.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{req.ResourceID}}); awsCode(err) != "InvalidVolume.NotFound" {
				t.Fatalf("volume %s still there (%v)", req.ResourceID, err)
			}
			snaps := snapshotsOf(t, c, req.ResourceID)
			if len(snaps) != 1 || snaps[0].State != ec2types.SnapshotStateCompleted {
				t.Fatalf("snapshots of %s: %+v, want one completed", req.ResourceID, snaps)
			}
			tags := tagsOf(snaps[0].Tags)
			if tags["team"] != "data" || tags[TagRecommendationID] != req.RecommendationID || tags[TagActionID] != req.ID {
				t.Errorf("snapshot tags %v lack the volume's tags, the recommendation or the action", tags)
			}
		},
		kept: func(t testing.TB, c clients, req Request) {
			out, err := c.ec2.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{req.ResourceID}})
			if err != nil || len(out.Volumes) != 1 || out.Volumes[0].State != ec2types.VolumeStateAvailable {
				t.Fatalf("volume %s not kept: %v %v", req.ResourceID, out, err)
			}
			if snaps := snapshotsOf(t, c, req.ResourceID); len(snaps) != 0 {
				t.Errorf("the rolled-back flow left %d snapshots", len(snaps))
			}
		},
		failure: "snapshot",
		vanish:  vanishVolume,
	},
	{
		name: "rds_resize_multi_az",
		create: func(t testing.TB, c clients, settle func()) Request {
			id := "db-" + strconv.Itoa(int(time.Now().UnixNano()%1e9))
			_, err := c.rds.CreateDBInstance(context.Background(), &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
				DBInstanceClass: aws.String(bigDBClass), Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20),
				MasterUsername: aws.String("admin1"), MasterUserPassword: aws.String("correct-horse-9"), MultiAZ: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			settle()
			return Request{ID: uuid.NewString(), ResourceID: id, ResourceType: ResourceRDSInstance, Region: region,
				Action: ActionResize, FromSize: bigDBClass, ToSize: smallDBClass, RollbackOnFailure: true}
		},
		inject: func(t testing.TB, sim *awssim.Sim, req Request) {
			// Twice: a flow killed after the refusal but before journaling
			// it asks again when resumed, and must be refused again.
			for range 2 {
				if err := sim.FailNext(awssim.FailNextSpec{Service: "rds", Action: "ModifyDBInstance", ResourceID: req.ResourceID,
					Code: "InvalidDBInstanceState", Message: "injected: modification refused"}); err != nil {
					t.Fatal(err)
				}
			}
		},
		done:    func(t testing.TB, c clients, req Request) { wantDB(t, c, req.ResourceID, smallDBClass) },
		kept:    func(t testing.TB, c clients, req Request) { wantDB(t, c, req.ResourceID, bigDBClass) },
		failure: "InvalidDBInstanceState",
		vanish:  vanishDB,
	},
	{
		name: "lambda_memory",
		create: func(t testing.TB, c clients, settle func()) Request {
			name := "fn-" + strconv.Itoa(int(time.Now().UnixNano()%1e9))
			_, err := c.lambda.CreateFunction(context.Background(), &lambda.CreateFunctionInput{FunctionName: aws.String(name),
				Runtime: lambdatypes.RuntimePython312, Role: aws.String("arn:aws:iam::" + awssim.DefaultAccountID + ":role/fn"),
				Handler: aws.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: emptyZip(t)},
				MemorySize: aws.Int32(1024), Timeout: aws.Int32(30)})
			if err != nil {
				t.Fatal(err)
			}
			settle()
			return Request{ID: uuid.NewString(), ResourceID: name, ResourceType: ResourceLambdaFunction, Region: region,
				Action: ActionSetMemory, FromSize: "1024", ToSize: "512", RollbackOnFailure: true}
		},
		inject:  func(_ testing.TB, sim *awssim.Sim, req Request) { sim.FailFunctionUpdates(req.ResourceID, true) },
		done:    func(t testing.TB, c clients, req Request) { wantMemory(t, c, req.ResourceID, 512) },
		kept:    func(t testing.TB, c clients, req Request) { wantMemory(t, c, req.ResourceID, 1024) },
		failure: "InternalError",
		vanish:  vanishFunction,
	},
}

func snapshotsOf(t testing.TB, c clients, volumeID string) []ec2types.Snapshot {
	t.Helper()
	out, err := c.ec2.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{volumeID}}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Snapshots
}

func wantDB(t testing.TB, c clients, id, class string) {
	t.Helper()
	out, err := c.rds.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	db := out.DBInstances[0]
	if aws.ToString(db.DBInstanceClass) != class || aws.ToString(db.DBInstanceStatus) != "available" || !aws.ToBool(db.MultiAZ) {
		t.Fatalf("DB instance %s is %s %s multi-AZ %v, want available %s multi-AZ", id, aws.ToString(db.DBInstanceStatus), aws.ToString(db.DBInstanceClass), aws.ToBool(db.MultiAZ), class)
	}
}

func wantMemory(t testing.TB, c clients, name string, mb int32) {
	t.Helper()
	out, err := c.lambda.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.MemorySize) != mb || out.LastUpdateStatus == lambdatypes.LastUpdateStatusInProgress {
		t.Fatalf("function %s has %d MB (%s), want %d", name, aws.ToInt32(out.MemorySize), out.LastUpdateStatus, mb)
	}
}

func emptyZip(t testing.TB) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create("index.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("def handler(e, c):\n    return 0\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestActionKindsSucceed runs each new action to the end and compares
// AWS's view with what the action says it did.
func TestActionKindsSucceed(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t)
			c := newClients(t, e.url)
			req := k.create(t, c, func() { e.clock.Advance(2 * time.Minute) })
			a := e.actuator(t, c.withServices(e.config(t, t.TempDir())))
			act := a.Execute(context.Background(), req)
			if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
				t.Fatalf("status %v, error %q, steps %v", act.Status, act.Error, act.Steps)
			}
			want := flowKinds[flowKey{req.ResourceType, req.Action}].forward
			if got := stepNames(act); !slices.Equal(got, want) {
				t.Errorf("steps %v, want %v", got, want)
			}
			k.done(t, c, req)
		})
	}
}

// TestActionKindsRollBack injects a failure into each new action after it
// started: the step that failed carries AWS's error, the action ends
// ROLLED_BACK and the resource is as it was.
func TestActionKindsRollBack(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t)
			c := newClients(t, e.url)
			req := k.create(t, c, func() { e.clock.Advance(2 * time.Minute) })
			k.inject(t, e.sim, req)
			a := e.actuator(t, c.withServices(e.config(t, t.TempDir())))
			act := a.Execute(context.Background(), req)
			if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK {
				t.Fatalf("status %v, error %q, steps %v", act.Status, act.Error, act.Steps)
			}
			if !strings.Contains(act.Error, k.failure) {
				t.Errorf("error %q does not say %q", act.Error, k.failure)
			}
			failed := false
			for _, s := range act.Steps {
				failed = failed || (s.Status == statusFailed && strings.Contains(s.Detail, k.failure))
			}
			if !failed {
				t.Errorf("no failed step records %q: %v", k.failure, act.Steps)
			}
			k.kept(t, c, req)
		})
	}
}

// TestReleaseOnlyWhenApproved: releasing an address cannot be undone, so
// the actuator refuses it unless a person approved it, and releases it
// when one did.
func TestReleaseOnlyWhenApproved(t *testing.T) {
	e := newEnv(t)
	c := newClients(t, e.url)
	out, err := c.ec2.AllocateAddress(context.Background(), &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.AllocationId)
	a := e.actuator(t, c.withServices(e.config(t, t.TempDir())))
	req := Request{ID: uuid.NewString(), ResourceID: id, ResourceType: ResourceEIP, Region: region, Action: ActionRelease}
	if act := a.Execute(context.Background(), req); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, "approved") {
		t.Fatalf("unapproved release: %v %q", act.Status, act.Error)
	}
	if _, err := c.ec2.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{AllocationIds: []string{id}}); err != nil {
		t.Fatalf("the unapproved release touched the address: %v", err)
	}
	req.ID, req.Approved = uuid.NewString(), true
	act := a.Execute(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || !slices.Equal(stepNames(act), []string{phaseCheck, phaseRelease}) {
		t.Fatalf("approved release: %v %q %v", act.Status, act.Error, stepNames(act))
	}
	if _, err := c.ec2.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{AllocationIds: []string{id}}); awsCode(err) != "InvalidAllocationID.NotFound" {
		t.Fatalf("address %s still allocated after release (%v)", id, err)
	}
}

// TestVolumeGoneMidFlow: a volume deleted by someone between the check
// and the snapshot fails the flow with AWS's error code, saying it is
// gone; nothing is rolled back or tagged against it, and no snapshot is
// left behind.
func TestVolumeGoneMidFlow(t *testing.T) {
	e := newEnv(t)
	c := newClients(t, e.url)
	req := kinds[0].create(t, c, func() { e.clock.Advance(2 * time.Minute) })
	cfg := c.withServices(e.config(t, t.TempDir()))
	cfg.EC2 = func(string) EC2API { return deleteBeforeSnapshot{Client: c.ec2} }
	a := e.actuator(t, cfg)
	act := a.Execute(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || act.ErrorCode != "InvalidVolume.NotFound" ||
		!strings.Contains(act.Error, "is gone (InvalidVolume.NotFound)") || !slices.Equal(stepNames(act), []string{phaseCheck, phaseSnapshot}) {
		t.Fatalf("status %v, code %q, error %q, steps %v", act.Status, act.ErrorCode, act.Error, stepNames(act))
	}
	if snaps := snapshotsOf(t, c, req.ResourceID); len(snaps) != 0 {
		t.Errorf("%d snapshots of the vanished volume", len(snaps))
	}
}

// deleteBeforeSnapshot deletes the volume just before the flow snapshots
// it, as a person might.
type deleteBeforeSnapshot struct{ *ec2.Client }

func (d deleteBeforeSnapshot) CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error) {
	if _, err := d.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: in.VolumeId}); err != nil {
		return nil, err
	}
	return d.Client.CreateSnapshot(ctx, in, opts...)
}

// TestVerifyJudgesMetrics runs the RDS class and Lambda memory changes
// with a verify wait, on the simulator's manual clock (the actuator's
// sleeps advance it), so the verify step reads CloudWatch data the
// simulator generated since the change. A workload that fits the new size
// passes with datapoints judged; one that does not (DegradeAtSize: the DB's
// CPU pinned at the smaller class, every invocation failing at the smaller
// memory) fails verify and is rolled back to the size it had.
func TestVerifyJudgesMetrics(t *testing.T) {
	cases := []struct {
		kind            kind
		service, step   string
		judged, failure string
	}{
		{kinds[1], "rds", phaseVerifyDB, "datapoints", "CPU pinned"},
		{kinds[2], "lambda", phaseVerifyFunction, "invocations", "errors rose"},
	}
	for _, tc := range cases {
		for _, degrade := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/degraded=%t", tc.kind.name, degrade), func(t *testing.T) {
				e := newEnv(t)
				c := newClients(t, e.url)
				// An hour of history at the old size for the before window.
				req := tc.kind.create(t, c, func() { e.clock.Advance(time.Hour) })
				req.VerifyWait = 15 * time.Minute
				if degrade {
					if err := e.sim.DegradeAtSize(tc.service, req.ResourceID, req.ToSize); err != nil {
						t.Fatal(err)
					}
				}
				a := e.actuator(t, c.withServices(e.config(t, t.TempDir())))
				act := a.Execute(context.Background(), req)
				verify := ""
				for _, s := range act.Steps {
					if s.Name == tc.step && verify == "" {
						verify = s.Status + ": " + s.Detail
					}
				}
				t.Logf("verify step %q", verify)
				if !degrade {
					if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || !strings.HasPrefix(verify, statusSucceeded) || !strings.Contains(verify, tc.judged) {
						t.Fatalf("status %v, verify %q, want succeeded having judged %s; steps %v", act.Status, verify, tc.judged, act.Steps)
					}
					tc.kind.done(t, c, req)
					return
				}
				if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK || !strings.Contains(act.Error, tc.failure) || !strings.HasPrefix(verify, statusFailed) {
					t.Fatalf("status %v, error %q, verify %q, want rolled back because %s; steps %v", act.Status, act.Error, verify, tc.failure, act.Steps)
				}
				tc.kind.kept(t, c, req)
			})
		}
	}
}

// TestBadInputLeavesResourcesAsTheyWere: an instance terminated by someone
// between the live check and the stop, and DB classes AWS refuses
// (malformed, or well-formed but not offered), each
// fail their step with AWS's error code, leave the resource as it was, and
// the actuator goes on to carry out the next action.
func TestBadInputLeavesResourcesAsTheyWere(t *testing.T) {
	e := newEnv(t)
	c := newClients(t, e.url)
	settle := func() { e.clock.Advance(2 * time.Minute) }
	ids := launch(t, c.ec2, 2, bigType, nil, settle)
	cfg := c.withServices(e.config(t, t.TempDir()))
	cfg.EC2 = func(string) EC2API { return terminateBeforeStop{Client: c.ec2, victim: ids[0]} }
	a := e.actuator(t, cfg)
	failedStep := func(act *sirsiv1.Action, code string) {
		t.Helper()
		for _, s := range act.Steps {
			if s.Status == statusFailed && strings.Contains(s.Detail, code) {
				return
			}
		}
		t.Errorf("no failed step carries %s: %v", code, act.Steps)
	}

	gone := a.Execute(context.Background(), Request{ID: uuid.NewString(), ResourceID: ids[0], ResourceType: ResourceEC2Instance, Region: region,
		Action: ActionStop, FromSize: bigType, ToSize: bigType, RollbackOnFailure: true})
	if gone.Status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || !strings.Contains(gone.Error, "IncorrectInstanceState") {
		t.Fatalf("stopping a terminated instance: %v %q", gone.Status, gone.Error)
	}
	failedStep(gone, "IncorrectInstanceState")

	db := kinds[1].create(t, c, settle)
	db.ToSize = "db-m5.large"
	refused := a.Execute(context.Background(), db)
	if refused.Status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || !strings.Contains(refused.Error, "InvalidParameterValue") {
		t.Fatalf("a class AWS refuses: %v %q", refused.Status, refused.Error)
	}
	failedStep(refused, "InvalidParameterValue")
	wantDB(t, c, db.ResourceID, bigDBClass)

	// Well-formed, but no such class: RDS refuses the combination.
	db = kinds[1].create(t, c, settle)
	db.ToSize = "db.m5.3xlarge"
	refused = a.Execute(context.Background(), db)
	if refused.Status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || !strings.Contains(refused.Error, "InvalidParameterCombination") {
		t.Fatalf("a class RDS does not offer: %v %q", refused.Status, refused.Error)
	}
	failedStep(refused, "InvalidParameterCombination")
	if refused.ErrorCode != "InvalidParameterCombination" {
		t.Errorf("the action's error code is %q, want AWS's InvalidParameterCombination", refused.ErrorCode)
	}
	wantDB(t, c, db.ResourceID, bigDBClass)

	// The actuator is still in service.
	next := a.Execute(context.Background(), Request{ID: uuid.NewString(), ResourceID: ids[1], ResourceType: ResourceEC2Instance, Region: region,
		Action: ActionStop, FromSize: bigType, ToSize: bigType, RollbackOnFailure: true})
	if next.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("the next action after two failures: %v %q", next.Status, next.Error)
	}
}

// terminateBeforeStop terminates the victim just before the flow stops
// it, as a person might.
type terminateBeforeStop struct {
	*ec2.Client
	victim string
}

func (d terminateBeforeStop) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, opts ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	if slices.Contains(in.InstanceIds, d.victim) {
		if _, err := d.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{d.victim}}); err != nil {
			return nil, err
		}
	}
	return d.Client.StopInstances(ctx, in, opts...)
}
