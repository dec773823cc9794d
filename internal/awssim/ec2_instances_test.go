package awssim

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func ec2Client(ts *testSim, region string) *ec2.Client {
	return ec2.NewFromConfig(ts.awsConfig(region, "AKIDTEST"))
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode()
}

func runOne(t *testing.T, c *ec2.Client, typ string, tags map[string]string) types.Instance {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: types.InstanceType(typ),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	if len(tags) > 0 {
		spec := types.TagSpecification{ResourceType: types.ResourceTypeInstance}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		in.TagSpecifications = []types.TagSpecification{spec}
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("RunInstances returned %d instances, want 1", len(out.Instances))
	}
	return out.Instances[0]
}

func describeOne(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeInstances(%s): %v", id, err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances(%s): %d reservations", id, len(out.Reservations))
	}
	return out.Reservations[0].Instances[0]
}

func instanceIDs(out *ec2.DescribeInstancesOutput) []string {
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
}

func TestInstanceLifecycle(t *testing.T) {
	ts := startSim(t, Options{StateDelay: 2 * time.Second})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()

	inst := runOne(t, c, "m5.large", map[string]string{"team": "a", ProfileTag: "idle"})
	id := aws.ToString(inst.InstanceId)
	if inst.State.Name != types.InstanceStateNamePending || aws.ToInt32(inst.State.Code) != 0 {
		t.Fatalf("new instance state = %v/%d, want pending/0", inst.State.Name, aws.ToInt32(inst.State.Code))
	}
	if inst.Architecture != types.ArchitectureValuesX8664 {
		t.Errorf("architecture = %q, want x86_64", inst.Architecture)
	}
	if got := describeOne(t, c, id).State.Name; got != types.InstanceStateNamePending {
		t.Fatalf("before StateDelay: %s, want pending", got)
	}
	ts.Clock.Advance(2 * time.Second)
	got := describeOne(t, c, id)
	if got.State.Name != types.InstanceStateNameRunning || aws.ToInt32(got.State.Code) != 16 {
		t.Fatalf("after StateDelay: %s, want running", got.State.Name)
	}
	if len(got.BlockDeviceMappings) != 1 || got.BlockDeviceMappings[0].Ebs == nil {
		t.Fatalf("root volume mapping missing: %+v", got.BlockDeviceMappings)
	}

	_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
		InstanceType: &types.AttributeValue{Value: aws.String("m5.xlarge")}})
	if code := apiCode(t, err); code != "IncorrectInstanceState" {
		t.Fatalf("modify while running: %s, want IncorrectInstanceState", code)
	}

	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("StopInstances: %v", err)
	}
	if ch := stop.StoppingInstances[0]; ch.CurrentState.Name != types.InstanceStateNameStopping || ch.PreviousState.Name != types.InstanceStateNameRunning {
		t.Fatalf("stop change = %s -> %s", ch.PreviousState.Name, ch.CurrentState.Name)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
		InstanceType: &types.AttributeValue{Value: aws.String("m5.xlarge")}})
	if code := apiCode(t, err); code != "IncorrectInstanceState" {
		t.Fatalf("modify while stopping: %s, want IncorrectInstanceState", code)
	}
	ts.Clock.Advance(2 * time.Second)
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
		InstanceType: &types.AttributeValue{Value: aws.String("m5.xlarge")}}); err != nil {
		t.Fatalf("modify while stopped: %v", err)
	}
	if got := describeOne(t, c, id); got.InstanceType != types.InstanceTypeM5Xlarge || got.State.Name != types.InstanceStateNameStopped {
		t.Fatalf("after modify: %s %s", got.InstanceType, got.State.Name)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("StartInstances: %v", err)
	}
	ts.Clock.Advance(2 * time.Second)
	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	if ch := term.TerminatingInstances[0]; ch.PreviousState.Name != types.InstanceStateNameRunning || ch.CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Fatalf("terminate change = %s -> %s", ch.PreviousState.Name, ch.CurrentState.Name)
	}
	ts.Clock.Advance(2 * time.Second)
	if got := describeOne(t, c, id).State.Name; got != types.InstanceStateNameTerminated {
		t.Fatalf("after terminate: %s", got)
	}
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if code := apiCode(t, err); code != "IncorrectInstanceState" {
		t.Fatalf("start terminated: %s, want IncorrectInstanceState", code)
	}
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatalf("DescribeVolumes: %v", err)
	}
	if len(vols.Volumes) != 0 {
		t.Errorf("root volume survived termination: %d volumes", len(vols.Volumes))
	}
	ts.Clock.Advance(time.Hour)
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if code := apiCode(t, err); code != "InvalidInstanceID.NotFound" {
		t.Fatalf("an hour after termination: %s, want InvalidInstanceID.NotFound", code)
	}

	// The history holds every state the instance went through, at the
	// instants they were due.
	var states []string
	for _, e := range ts.Events(DefaultAccountID) {
		if e.ResourceID == id {
			states = append(states, e.State+"@"+e.Time.Sub(testStart).String()+"/"+e.Type)
		}
	}
	want := []string{"pending@0s/m5.large", "running@2s/m5.large", "stopping@2s/m5.large", "stopped@4s/m5.large",
		"stopped@4s/m5.xlarge", "pending@4s/m5.xlarge", "running@6s/m5.xlarge", "shutting-down@6s/m5.xlarge", "terminated@8s/m5.xlarge"}
	if len(states) != len(want) {
		t.Fatalf("history = %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("history = %v, want %v", states, want)
		}
	}
}

func TestDescribeInstancesFiltersAndPagination(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "eu-west-1")
	ctx := context.Background()
	var teamA, all []string
	for i := range 12 {
		typ, team := "m5.large", "a"
		if i%3 == 0 {
			typ, team = "t3.small", "b"
		}
		id := aws.ToString(runOne(t, c, typ, map[string]string{"team": team}).InstanceId)
		all = append(all, id)
		if team == "a" {
			teamA = append(teamA, id)
		}
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: all[:2]}); err != nil {
		t.Fatalf("StopInstances: %v", err)
	}
	filter := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	cases := []struct {
		name    string
		filters []types.Filter
		want    int
	}{
		{"tag value", []types.Filter{filter("tag:team", "a")}, len(teamA)},
		{"tag wildcard", []types.Filter{filter("tag:team", "?")}, 12},
		{"tag key", []types.Filter{filter("tag-key", "team")}, 12},
		{"missing tag", []types.Filter{filter("tag:owner", "x")}, 0},
		{"type", []types.Filter{filter("instance-type", "t3.small")}, 4},
		{"state", []types.Filter{filter("instance-state-name", "stopped")}, 2},
		{"state or", []types.Filter{filter("instance-state-name", "stopped", "running")}, 12},
		{"and", []types.Filter{filter("instance-type", "t3.small"), filter("instance-state-name", "stopped")}, 1},
		{"ids", []types.Filter{filter("instance-id", all[3], all[4])}, 2},
	}
	for _, tc := range cases {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: tc.filters})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(instanceIDs(out)); got != tc.want {
			t.Errorf("%s: %d instances, want %d", tc.name, got, tc.want)
		}
	}

	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	var pages []int
	seen := map[string]bool{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", len(pages), err)
		}
		ids := instanceIDs(out)
		pages = append(pages, len(ids))
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("%s returned on two pages", id)
			}
			seen[id] = true
		}
	}
	if len(pages) != 3 || pages[0] != 5 || pages[1] != 5 || pages[2] != 2 || len(seen) != 12 {
		t.Fatalf("pages = %v (%d distinct), want [5 5 2] covering 12", pages, len(seen))
	}

	bad := []struct {
		name string
		in   *ec2.DescribeInstancesInput
		code string
	}{
		{"MaxResults below 5", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue"},
		{"MaxResults above 1000", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1001)}, "InvalidParameterValue"},
		{"MaxResults with ids", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: all[:1]}, "InvalidParameterCombination"},
		{"malformed id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}}, "InvalidInstanceID.Malformed"},
		{"unknown id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound"},
		{"unknown filter", &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("colour", "red")}}, "InvalidParameterValue"},
		{"bad token", &ec2.DescribeInstancesInput{NextToken: aws.String("!!")}, "InvalidPaginationToken"},
	}
	for _, tc := range bad {
		_, err := c.DescribeInstances(ctx, tc.in)
		if code := apiCode(t, err); code != tc.code {
			t.Errorf("%s: %s, want %s", tc.name, code, tc.code)
		}
	}

	// Regions and accounts are separate: us-east-1 sees none of these.
	out, err := ec2Client(ts, "us-east-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatalf("us-east-1: %v", err)
	}
	if n := len(instanceIDs(out)); n != 0 {
		t.Errorf("us-east-1 sees %d eu-west-1 instances", n)
	}
}

func TestRunInstancesValidation(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	base := func() *ec2.RunInstancesInput {
		return &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: types.InstanceTypeM5Large,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	}
	cases := []struct {
		name string
		mod  func(*ec2.RunInstancesInput)
		code string
	}{
		{"unknown type", func(in *ec2.RunInstancesInput) { in.InstanceType = "m5.huge" }, "InvalidParameterValue"},
		{"malformed ami", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("image-1") }, "InvalidAMIID.Malformed"},
		{"min above max", func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(3) }, "InvalidParameterValue"},
		{"foreign zone", func(in *ec2.RunInstancesInput) {
			in.Placement = &types.Placement{AvailabilityZone: aws.String("eu-west-1a")}
		}, "InvalidParameterValue"},
		{"aws: tag", func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}}}
		}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		in := base()
		tc.mod(in)
		_, err := c.RunInstances(context.Background(), in)
		if code := apiCode(t, err); code != tc.code {
			t.Errorf("%s: %s, want %s", tc.name, code, tc.code)
		}
	}
	// Idempotency: the same ClientToken returns the same reservation.
	in := base()
	in.ClientToken = aws.String("token-1")
	first, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	again, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances retry: %v", err)
	}
	if aws.ToString(first.Instances[0].InstanceId) != aws.ToString(again.Instances[0].InstanceId) {
		t.Errorf("retry with the same ClientToken launched a second instance")
	}
}

func TestCreateTagsSetsProfile(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	id := aws.ToString(runOne(t, c, "m5.large", nil).InstanceId)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id},
		Tags: []types.Tag{{Key: aws.String(ProfileTag), Value: aws.String("spiky")}, {Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatalf("CreateTags: %v", err)
	}
	ts.mu.Lock()
	p := ts.accounts[DefaultAccountID].Regions["us-east-1"].Instances[id].Profile
	ts.mu.Unlock()
	if p != ProfileSpiky {
		t.Errorf("profile after tagging = %q, want spiky", p)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:env"), Values: []string{"prod"}}}})
	if err != nil || len(instanceIDs(out)) != 1 {
		t.Fatalf("tag filter after CreateTags: %v, %d", err, len(instanceIDs(out)))
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id, "vol-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	if code := apiCode(t, err); code != "InvalidVolume.NotFound" {
		t.Fatalf("tagging a missing volume: %s", code)
	}
	if got := describeOne(t, c, id); len(got.Tags) != 2 {
		t.Errorf("a failed CreateTags tagged the instance anyway: %d tags", len(got.Tags))
	}
}

func TestDescribeInstanceStatus(t *testing.T) {
	ts := startSim(t, Options{StateDelay: time.Second})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	a := aws.ToString(runOne(t, c, "m5.large", nil).InstanceId)
	b := aws.ToString(runOne(t, c, "m5.large", nil).InstanceId)
	ts.FailStatusChecks(b, true)

	out, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{})
	if err != nil {
		t.Fatalf("DescribeInstanceStatus: %v", err)
	}
	if len(out.InstanceStatuses) != 0 {
		t.Fatalf("pending instances listed without IncludeAllInstances: %d", len(out.InstanceStatuses))
	}
	out, err = c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DescribeInstanceStatus: %v", err)
	}
	if len(out.InstanceStatuses) != 2 || out.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusNotApplicable {
		t.Fatalf("all instances while pending = %+v", out.InstanceStatuses)
	}
	ts.Clock.Advance(time.Second)
	out, err = c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{})
	if err != nil {
		t.Fatalf("DescribeInstanceStatus: %v", err)
	}
	if len(out.InstanceStatuses) != 2 || out.InstanceStatuses[0].SystemStatus.Status != types.SummaryStatusInitializing {
		t.Fatalf("just started = %+v", out.InstanceStatuses)
	}
	ts.Clock.Advance(time.Second)
	out, err = c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{})
	if err != nil {
		t.Fatalf("DescribeInstanceStatus: %v", err)
	}
	status := map[string]types.SummaryStatus{}
	for _, s := range out.InstanceStatuses {
		status[aws.ToString(s.InstanceId)] = s.InstanceStatus.Status
	}
	if status[a] != types.SummaryStatusOk || status[b] != types.SummaryStatusImpaired {
		t.Fatalf("statuses = %v, want %s ok and %s impaired", status, a, b)
	}
	imp, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{Filters: []types.Filter{
		{Name: aws.String("instance-status.status"), Values: []string{"impaired"}}}})
	if err != nil || len(imp.InstanceStatuses) != 1 || aws.ToString(imp.InstanceStatuses[0].InstanceId) != b {
		t.Fatalf("impaired filter: %v %+v", err, imp)
	}
}

// TestConcurrentClients runs several SDK clients at once (run with -race):
// every launch is kept, none is seen twice.
func TestConcurrentClients(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	const workers, each = 6, 5
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: "t3.small",
					MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
				if err == nil {
					_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(out.Instances[0].InstanceId)}})
				}
				if err == nil {
					_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"stopped"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ids := instanceIDs(out)
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(ids) != workers*each || len(seen) != len(ids) {
		t.Fatalf("%d stopped instances (%d distinct), want %d", len(ids), len(seen), workers*each)
	}
}

// TestUnstoppableInstances: EC2 refuses to stop an instance-store-backed
// instance and a one-time Spot Instance, stops a persistent one, and
// reports lifecycle, root device type and system tags as set.
func TestUnstoppableInstances(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	const storeAMI = "ami-0fedcba9876543210"
	if err := ts.SetImageRootDeviceType(storeAMI, "instance-store"); err != nil {
		t.Fatal(err)
	}
	run := func(ami string, market *types.InstanceMarketOptionsRequest) string {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeM5Large,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceMarketOptions: market})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	store := run(storeAMI, nil)
	oneTime := run("ami-0123456789abcdef0", &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot})
	persistent := run("ami-0123456789abcdef0", &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
		SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypePersistent, InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorStop}})
	if err := ts.SetSystemTags(ts.AccountID(), "us-east-1", persistent, map[string]string{"aws:autoscaling:groupName": "web"}); err != nil {
		t.Fatal(err)
	}
	if err := ts.SetSystemTags(ts.AccountID(), "us-east-1", persistent, map[string]string{"team": "x"}); err == nil {
		t.Error("SetSystemTags took a user tag")
	}
	desc, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{store, oneTime, persistent}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.Instance{}
	for _, r := range desc.Reservations {
		for _, in := range r.Instances {
			got[aws.ToString(in.InstanceId)] = in
		}
	}
	if got[store].RootDeviceType != types.DeviceTypeInstanceStore || got[oneTime].RootDeviceType != types.DeviceTypeEbs ||
		got[oneTime].InstanceLifecycle != types.InstanceLifecycleTypeSpot || got[store].InstanceLifecycle != "" {
		t.Errorf("store %s/%s, spot %s/%s", got[store].RootDeviceType, got[store].InstanceLifecycle, got[oneTime].RootDeviceType, got[oneTime].InstanceLifecycle)
	}
	if tags := got[persistent].Tags; len(tags) != 1 || aws.ToString(tags[0].Key) != "aws:autoscaling:groupName" || aws.ToString(tags[0].Value) != "web" {
		t.Errorf("system tags %v", tags)
	}
	for _, id := range []string{store, oneTime} {
		_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
		if apiCode(t, err) != "UnsupportedOperation" {
			t.Errorf("stopping %s: %v, want UnsupportedOperation", id, err)
		}
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{persistent}}); err != nil {
		t.Errorf("stopping a persistent Spot Instance: %v", err)
	}
}

// lastTags are the tags of the last change event recorded for id.
func lastTags(t *testing.T, s *Sim, id string) map[string]string {
	t.Helper()
	var tags map[string]string
	found := false
	for _, e := range s.Events(s.AccountID()) {
		if e.ResourceID == id {
			tags, found = e.Tags, true
		}
	}
	if !found {
		t.Fatalf("no event recorded for %s", id)
	}
	return tags
}

func TestDeleteTags(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	id := aws.ToString(runOne(t, c, "m5.large", nil).InstanceId)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{
		{Key: aws.String(ProfileTag), Value: aws.String("spiky")}, {Key: aws.String("env"), Value: aws.String("prod")},
		{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("owner"), Value: aws.String("")}}}); err != nil {
		t.Fatalf("CreateTags: %v", err)
	}
	tagMap := func() map[string]string {
		m := map[string]string{}
		for _, tg := range describeOne(t, c, id).Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	// env's value differs: kept. team without a value: removed whatever its
	// value. owner with the empty value it has: removed.
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("team")}, {Key: aws.String("owner"), Value: aws.String("")}}}); err != nil {
		t.Fatalf("DeleteTags: %v", err)
	}
	want := map[string]string{ProfileTag: "spiky", "env": "prod"}
	if got := tagMap(); !maps.Equal(got, want) {
		t.Fatalf("tags after DeleteTags = %v, want %v", got, want)
	}
	if got := lastTags(t, ts.Sim, id); !maps.Equal(got, want) {
		t.Errorf("change event tags = %v, want %v", got, want)
	}
	_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id, "i-0123456789abcdef0"}})
	if code := apiCode(t, err); code != "InvalidInstanceID.NotFound" {
		t.Fatalf("untagging a missing instance: %s", code)
	}
	_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{"vol-0123456789abcdef0"}})
	if code := apiCode(t, err); code != "InvalidVolume.NotFound" {
		t.Fatalf("untagging a missing volume: %s", code)
	}
	if got := tagMap(); !maps.Equal(got, want) {
		t.Fatalf("a failed DeleteTags changed the tags: %v", got)
	}
	// No Tag at all removes every user tag, the profile tag with them.
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}}); err != nil {
		t.Fatalf("DeleteTags without Tag: %v", err)
	}
	if got := tagMap(); len(got) != 0 {
		t.Fatalf("tags after DeleteTags without Tag = %v, want none", got)
	}
	ts.mu.Lock()
	p := ts.accounts[DefaultAccountID].Regions["us-east-1"].Instances[id].Profile
	ts.mu.Unlock()
	if p != "" {
		t.Errorf("profile after its tag went = %q, want the default", p)
	}
	if got := lastTags(t, ts.Sim, id); len(got) != 0 {
		t.Errorf("change event tags = %v, want none", got)
	}
}
