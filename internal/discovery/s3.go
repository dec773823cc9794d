package discovery

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// itemFanOut is how many per-item calls (GetBucketTagging, GetFunction,
// GetBucketLocation) one unit keeps in flight: per-item calls are latency
// bound on AWS, and the limiter, not this number, keeps them inside quota.
const itemFanOut = 16

// S3 is global: ListBuckets once per sweep (from the home region), then
// GetBucketLocation for every bucket, shared by all S3 units; each region's
// unit then reads its own buckets' tags. A bucket is reported only under
// its region and only when that region is one of Options.Regions.
var s3Buckets = &collector{
	typ:     validation.ResourceS3Bucket,
	actions: []string{"s3:GetBucketLocation", "s3:GetBucketTagging", "s3:ListAllMyBuckets"},
	perItem: true,
	prepare: func(ctx context.Context, d *Discoverer) (any, error) { return d.locateBuckets(ctx) },
	collect: func(ctx context.Context, d *Discoverer, region string, shared any) ([]*sirsiv1.Resource, error) {
		located := shared.(map[string][]s3types.Bucket)
		buckets := located[region]
		c := d.s3Client(region)
		out := make([]*sirsiv1.Resource, len(buckets))
		err := forEach(ctx, len(buckets), func(ctx context.Context, i int) error {
			b := buckets[i]
			name := aws.ToString(b.Name)
			tags, err := bucketTags(ctx, c, name)
			if isCode(err, "NoSuchBucket") {
				return nil // deleted since ListBuckets
			}
			if err != nil {
				return fmt.Errorf("reading the tags of S3 bucket %s: %w", name, err)
			}
			out[i] = &sirsiv1.Resource{
				ResourceId: name,
				Arn:        fmt.Sprintf("arn:%s:s3:::%s", partition(region), name),
				Name:       name,
				Tags:       tags,
				Attributes: map[string]string{},
				LaunchTime: ts(b.CreationDate),
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return compact(out), nil
	},
}

func (d *Discoverer) s3Client(region string) *s3.Client {
	return s3.NewFromConfig(d.cfg, func(o *s3.Options) {
		o.Region = region
		// Simulators and moto answer on one host name, without the
		// bucket.s3.<region> wildcard DNS that virtual-hosted addressing
		// needs; AWS itself gets virtual-hosted requests.
		o.UsePathStyle = d.cfg.BaseEndpoint != nil
	})
}

// locateBuckets lists the account's buckets and groups those in the swept
// regions by region. Any failure fails every S3 unit: a bucket that cannot
// be placed could belong to any region, and reporting a region complete
// without it would read as the bucket's deletion.
func (d *Discoverer) locateBuckets(ctx context.Context) (map[string][]s3types.Bucket, error) {
	c := d.s3Client(d.cfg.Region)
	var buckets []s3types.Bucket
	in := &s3.ListBucketsInput{}
	for {
		page, err := retryThrottled(ctx, func(ctx context.Context) (*s3.ListBucketsOutput, error) { return c.ListBuckets(ctx, in) })
		if err != nil {
			return nil, fmt.Errorf("listing S3 buckets: %w", err)
		}
		buckets = append(buckets, page.Buckets...)
		// Without MaxBuckets AWS answers in one page; follow a token anyway
		// should one come back.
		if aws.ToString(page.ContinuationToken) == "" {
			break
		}
		in = &s3.ListBucketsInput{ContinuationToken: page.ContinuationToken}
	}
	swept := map[string]bool{}
	for _, r := range d.regions {
		swept[r] = true
	}
	regions := make([]string, len(buckets))
	err := forEach(ctx, len(buckets), func(ctx context.Context, i int) error {
		name := aws.ToString(buckets[i].Name)
		out, err := retryThrottled(ctx, func(ctx context.Context) (*s3.GetBucketLocationOutput, error) {
			return c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		})
		if isCode(err, "NoSuchBucket") {
			return nil
		}
		if err != nil {
			return fmt.Errorf("locating S3 bucket %s: %w", name, err)
		}
		regions[i] = bucketRegion(out.LocationConstraint)
		return nil
	})
	if err != nil {
		return nil, err
	}
	located := map[string][]s3types.Bucket{}
	for i, b := range buckets {
		if swept[regions[i]] {
			located[regions[i]] = append(located[regions[i]], b)
		}
	}
	return located, nil
}

// bucketRegion maps GetBucketLocation's answer to a region: empty is
// us-east-1 and "EU" the legacy name of eu-west-1.
func bucketRegion(lc s3types.BucketLocationConstraint) string {
	switch lc {
	case "":
		return "us-east-1"
	case s3types.BucketLocationConstraintEu:
		return "eu-west-1"
	}
	return string(lc)
}

func bucketTags(ctx context.Context, c *s3.Client, name string) (map[string]string, error) {
	out, err := retryThrottled(ctx, func(ctx context.Context) (*s3.GetBucketTaggingOutput, error) {
		return c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	})
	if isCode(err, "NoSuchTagSet") {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// forEach runs fn for 0..n-1, itemFanOut at a time, and returns the first
// error; after an error no new item starts.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range min(n, itemFanOut) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// compact drops the nil entries of items skipped because they vanished
// between the listing and the per-item call.
func compact(rs []*sirsiv1.Resource) []*sirsiv1.Resource {
	out := rs[:0]
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}
