package awssim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// motoDeviations lists, per bad call, where moto 5.2 departs from AWS's
// documented behaviour. The simulator follows AWS; the test asserts both
// sides of each deviation, so a moto upgrade that fixes one fails here and
// the entry must go.
var motoDeviations = map[string]string{
	"ModifyInstanceAttribute InstanceType while running": "moto changes the type of a running instance; AWS requires the instance to be stopped and answers IncorrectInstanceState",
}

const diffFleetSeed = 42

var diffRegions = []string{"us-east-1", "eu-west-1"}

// TestMotoDifferential creates the same fleet through the API in the
// simulator and in moto, then compares the normalised inventories and the
// error codes of the same bad calls.
func TestMotoDifferential(t *testing.T) {
	motoURL := awstest.StartMoto(t)
	h := newHarness(t, 0)
	ctx := context.Background()
	motoCfg := sdkConfig(motoURL, "us-east-1", &awstest.RecordingTransport{})

	// moto only launches AMIs it knows and only gives functions roles that
	// exist in its IAM; the simulator accepts both.
	images, err := ec2.NewFromConfig(motoCfg).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("listing moto's AMIs: %v (%d images)", err, len(images.Images))
	}
	ami := aws.ToString(images.Images[0].ImageId)
	awstest.CLI(t, motoURL, "iam", "create-role", "--role-name", "sim-lambda", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)

	// At least two of each kind, so round-robin puts every kind in both regions.
	spec := FleetSpec{N: 20, Regions: diffRegions, Seed: diffFleetSeed, ImageID: ami, PollInterval: 20 * time.Millisecond,
		Mix: FleetMix{Instances: 6, Volumes: 4, Addresses: 3, DBInstances: 3, Buckets: 2, Functions: 2}}
	simMan, err := GenerateFleet(ctx, h.cfg, spec)
	if err != nil {
		t.Fatalf("fleet in the simulator: %v", err)
	}
	motoMan, err := GenerateFleet(ctx, motoCfg, spec)
	if err != nil {
		t.Fatalf("fleet in moto: %v", err)
	}
	if len(simMan.Resources) != spec.N || len(motoMan.Resources) != spec.N {
		t.Fatalf("manifests: simulator %d, moto %d resources, want %d", len(simMan.Resources), len(motoMan.Resources), spec.N)
	}
	for _, kind := range []string{"instance", "volume", "address", "db-instance", "bucket", "function"} {
		if simMan.Count(kind) == 0 {
			t.Fatalf("the fleet has no %s: the differential would not cover it", kind)
		}
	}

	for _, region := range diffRegions {
		for _, inv := range []struct {
			name string
			read func(*testing.T, aws.Config) []string
		}{
			{"DescribeInstances", diffInstances}, {"DescribeVolumes", diffVolumes}, {"DescribeAddresses", diffAddresses},
			{"DescribeDBInstances", diffDBInstances}, {"ListFunctions", diffFunctions},
		} {
			t.Run(region+"/"+inv.name, func(t *testing.T) {
				simDoc := inv.read(t, withRegion(h.cfg, region))
				motoDoc := inv.read(t, withRegion(motoCfg, region))
				if len(simDoc) == 0 {
					t.Fatalf("no %s resources in %s: the differential would not cover them", inv.name, region)
				}
				if !slices.Equal(simDoc, motoDoc) {
					t.Fatalf("normalised %s differ in %s\nsimulator:\n  %s\nmoto:\n  %s", inv.name, region,
						strings.Join(simDoc, "\n  "), strings.Join(motoDoc, "\n  "))
				}
			})
		}
	}
	t.Run("ListBuckets", func(t *testing.T) {
		simDoc, motoDoc := diffBuckets(t, h.cfg), diffBuckets(t, motoCfg)
		if len(simDoc) == 0 || !slices.Equal(simDoc, motoDoc) {
			t.Fatalf("normalised buckets differ\nsimulator:\n  %s\nmoto:\n  %s", strings.Join(simDoc, "\n  "), strings.Join(motoDoc, "\n  "))
		}
	})

	t.Run("simulator responses match the models", func(t *testing.T) {
		if n := checkRecorded(t, h.rec, "ec2", "rds", "s3", "lambda"); n < spec.N {
			t.Fatalf("validated %d responses, want at least one per resource (%d)", n, spec.N)
		}
	})

	// The same bad calls, against each side's own fleet.
	for _, bc := range diffBadCalls(simMan) {
		t.Run("error/"+bc.name, func(t *testing.T) {
			simCode := apiErrorCode(bc.call(ctx, h.cfg, simMan))
			motoCode := apiErrorCode(bc.call(ctx, motoCfg, motoMan))
			if simCode != bc.awsCode {
				t.Fatalf("simulator answered %q, AWS answers %q", simCode, bc.awsCode)
			}
			if why, deviates := motoDeviations[bc.name]; deviates {
				if motoCode == bc.awsCode {
					t.Fatalf("moto now answers %q like AWS: remove the deviation %q", motoCode, why)
				}
				t.Logf("known moto deviation (moto %q, AWS %q): %s", motoCode, bc.awsCode, why)
				return
			}
			if motoCode != simCode {
				t.Fatalf("error codes differ: simulator %q, moto %q", simCode, motoCode)
			}
		})
	}
}

func withRegion(cfg aws.Config, region string) aws.Config {
	c := cfg.Copy()
	c.Region = region
	return c
}

func apiErrorCode(err error) string {
	if err == nil {
		return "<success>"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "<not an API error: " + err.Error() + ">"
}

func sortedTags(get func(yield func(k, v string))) string {
	var kv []string
	get(func(k, v string) { kv = append(kv, k+"="+v) })
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

func ec2TagString(tags []ec2types.Tag) string {
	return sortedTags(func(y func(k, v string)) {
		for _, t := range tags {
			y(aws.ToString(t.Key), aws.ToString(t.Value))
		}
	})
}

func ec2Name(tags []ec2types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

var fleetTagFilter = []ec2types.Filter{{Name: aws.String("tag:sirsi-sim:fleet"), Values: []string{fmt.Sprint(diffFleetSeed)}}}

// instanceNames maps instance ids to their Name tags, so attachments can be
// compared across implementations whose ids differ.
func instanceNames(t *testing.T, cfg aws.Config) map[string]string {
	t.Helper()
	names := map[string]string{}
	p := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{Filters: fleetTagFilter})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("DescribeInstances: %v", err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				names[aws.ToString(in.InstanceId)] = ec2Name(in.Tags)
			}
		}
	}
	return names
}

func diffInstances(t *testing.T, cfg aws.Config) []string {
	var out []string
	p := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeInstancesInput{Filters: fleetTagFilter})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("DescribeInstances: %v", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				out = append(out, fmt.Sprintf("%s type=%s state=%s image=%s tags=%s", ec2Name(in.Tags), in.InstanceType,
					in.State.Name, aws.ToString(in.ImageId), ec2TagString(in.Tags)))
			}
		}
	}
	slices.Sort(out)
	return out
}

func diffVolumes(t *testing.T, cfg aws.Config) []string {
	names := instanceNames(t, cfg)
	var out []string
	p := ec2.NewDescribeVolumesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeVolumesInput{Filters: fleetTagFilter})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("DescribeVolumes: %v", err)
		}
		for _, v := range page.Volumes {
			var att []string
			for _, a := range v.Attachments {
				att = append(att, names[aws.ToString(a.InstanceId)]+":"+aws.ToString(a.Device)+":"+string(a.State))
			}
			out = append(out, fmt.Sprintf("%s type=%s size=%d state=%s attached=%v tags=%s", ec2Name(v.Tags), v.VolumeType,
				aws.ToInt32(v.Size), v.State, att, ec2TagString(v.Tags)))
		}
	}
	slices.Sort(out)
	return out
}

func diffAddresses(t *testing.T, cfg aws.Config) []string {
	names := instanceNames(t, cfg)
	page, err := ec2.NewFromConfig(cfg).DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{Filters: fleetTagFilter})
	if err != nil {
		t.Fatalf("DescribeAddresses: %v", err)
	}
	var out []string
	for _, a := range page.Addresses {
		out = append(out, fmt.Sprintf("%s domain=%s instance=%s tags=%s", ec2Name(a.Tags), a.Domain,
			names[aws.ToString(a.InstanceId)], ec2TagString(a.Tags)))
	}
	slices.Sort(out)
	return out
}

func diffDBInstances(t *testing.T, cfg aws.Config) []string {
	var out []string
	p := rds.NewDescribeDBInstancesPaginator(rds.NewFromConfig(cfg), &rds.DescribeDBInstancesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("DescribeDBInstances: %v", err)
		}
		for _, db := range page.DBInstances {
			tags := sortedTags(func(y func(k, v string)) {
				for _, tg := range db.TagList {
					y(aws.ToString(tg.Key), aws.ToString(tg.Value))
				}
			})
			out = append(out, fmt.Sprintf("%s class=%s engine=%s status=%s storage=%d multi-az=%v arn-suffix=%s tags=%s",
				aws.ToString(db.DBInstanceIdentifier), aws.ToString(db.DBInstanceClass), aws.ToString(db.Engine),
				aws.ToString(db.DBInstanceStatus), aws.ToInt32(db.AllocatedStorage), aws.ToBool(db.MultiAZ),
				arnSuffix(aws.ToString(db.DBInstanceArn)), tags))
		}
	}
	slices.Sort(out)
	return out
}

// arnSuffix drops the partition:service:region:account prefix checks both
// sides agree on the resource part.
func arnSuffix(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return "malformed:" + arn
	}
	return parts[3] + ":" + parts[4] + ":" + parts[5]
}

func diffFunctions(t *testing.T, cfg aws.Config) []string {
	c := lambda.NewFromConfig(cfg)
	var out []string
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListFunctions: %v", err)
		}
		for _, f := range page.Functions {
			tags, err := c.ListTags(context.Background(), &lambda.ListTagsInput{Resource: f.FunctionArn})
			if err != nil {
				t.Fatalf("ListTags %s: %v", aws.ToString(f.FunctionArn), err)
			}
			out = append(out, fmt.Sprintf("%s runtime=%s handler=%s memory=%d timeout=%d arch=%v package=%s version=%s arn-suffix=%s tags=%s",
				aws.ToString(f.FunctionName), f.Runtime, aws.ToString(f.Handler), aws.ToInt32(f.MemorySize), aws.ToInt32(f.Timeout),
				f.Architectures, f.PackageType, aws.ToString(f.Version), arnSuffix(aws.ToString(f.FunctionArn)),
				sortedTags(func(y func(k, v string)) {
					for k, v := range tags.Tags {
						y(k, v)
					}
				})))
		}
	}
	slices.Sort(out)
	return out
}

func diffBuckets(t *testing.T, cfg aws.Config) []string {
	ctx := context.Background()
	list, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var out []string
	for _, b := range list.Buckets {
		name := aws.ToString(b.Name)
		loc, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b.Name})
		if err != nil {
			t.Fatalf("GetBucketLocation %s: %v", name, err)
		}
		region := string(loc.LocationConstraint)
		if region == "" {
			region = "us-east-1"
		}
		regional := s3.NewFromConfig(withRegion(cfg, region), func(o *s3.Options) { o.UsePathStyle = true })
		tagging, err := regional.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b.Name})
		tags := "<none>"
		if err == nil {
			tags = sortedTags(func(y func(k, v string)) {
				for _, tg := range tagging.TagSet {
					y(aws.ToString(tg.Key), aws.ToString(tg.Value))
				}
			})
		} else if apiErrorCode(err) != "NoSuchTagSet" {
			t.Fatalf("GetBucketTagging %s: %v", name, err)
		}
		out = append(out, fmt.Sprintf("%s location=%s tags=%s", name, loc.LocationConstraint, tags))
	}
	slices.Sort(out)
	return out
}

type diffBadCall struct {
	name    string
	awsCode string
	call    func(ctx context.Context, cfg aws.Config, man FleetManifest) error
}

func firstOf(man FleetManifest, kind string, pred func(FleetResource) bool) FleetResource {
	for _, r := range man.Resources {
		if r.Kind == kind && (pred == nil || pred(r)) {
			return r
		}
	}
	return FleetResource{}
}

func diffBadCalls(man FleetManifest) []diffBadCall {
	return []diffBadCall{
		{"DescribeInstances unknown id", "InvalidInstanceID.NotFound", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}},
		{"ModifyInstanceAttribute InstanceType while running", "IncorrectInstanceState", func(ctx context.Context, cfg aws.Config, m FleetManifest) error {
			in := firstOf(m, "instance", nil)
			_, err := ec2.NewFromConfig(withRegion(cfg, in.Region)).ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
				InstanceId: aws.String(in.ID), InstanceType: &ec2types.AttributeValue{Value: aws.String("t3.nano")}})
			return err
		}},
		{"DeleteVolume unknown id", "InvalidVolume.NotFound", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			_, err := ec2.NewFromConfig(cfg).DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-0123456789abcdef0")})
			return err
		}},
		{"ReleaseAddress unknown allocation", "InvalidAllocationID.NotFound", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			_, err := ec2.NewFromConfig(cfg).ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String("eipalloc-0123456789abcdef0")})
			return err
		}},
		{"DescribeDBInstances unknown id", "DBInstanceNotFound", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			_, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("no-such-db")})
			return err
		}},
		{"CreateDBInstance duplicate", "DBInstanceAlreadyExists", func(ctx context.Context, cfg aws.Config, m FleetManifest) error {
			db := firstOf(m, "db-instance", nil)
			_, err := rds.NewFromConfig(withRegion(cfg, db.Region)).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
				DBInstanceIdentifier: aws.String(db.ID), DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("mysql"),
				AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")})
			return err
		}},
		{"StartDBInstance while available", "InvalidDBInstanceState", func(ctx context.Context, cfg aws.Config, m FleetManifest) error {
			db := firstOf(m, "db-instance", nil)
			_, err := rds.NewFromConfig(withRegion(cfg, db.Region)).StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String(db.ID)})
			return err
		}},
		{"GetBucketLocation unknown bucket", "NoSuchBucket", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("no-such-bucket-sirsi")})
			return err
		}},
		{"CreateBucket owned, outside us-east-1", "BucketAlreadyOwnedByYou", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			c := s3.NewFromConfig(withRegion(cfg, "eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
			in := &s3.CreateBucketInput{Bucket: aws.String("sirsi-diff-west"),
				CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}
			if _, err := c.CreateBucket(ctx, in); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			_, err := c.CreateBucket(ctx, in)
			return err
		}},
		{"GetBucketTagging without tags", "NoSuchTagSet", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sirsi-diff-untagged")}); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("sirsi-diff-untagged")})
			return err
		}},
		{"GetFunctionConfiguration unknown function", "ResourceNotFoundException", func(ctx context.Context, cfg aws.Config, _ FleetManifest) error {
			_, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("no-such-fn")})
			return err
		}},
		{"CreateFunction duplicate", "ResourceConflictException", func(ctx context.Context, cfg aws.Config, m FleetManifest) error {
			fn := firstOf(m, "function", nil)
			_, err := lambda.NewFromConfig(withRegion(cfg, fn.Region)).CreateFunction(ctx, &lambda.CreateFunctionInput{
				FunctionName: aws.String(fn.ID), Runtime: lambdatypes.RuntimePython312, Handler: aws.String("index.handler"),
				Role: aws.String("arn:aws:iam::" + DefaultAccountID + ":role/sim-lambda"), Code: &lambdatypes.FunctionCode{ZipFile: fleetFunctionZip}})
			return err
		}},
	}
}
