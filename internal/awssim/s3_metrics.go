package awssim

import "fmt"

// S3 publishes BucketSizeBytes once a day per bucket and storage class,
// stamped at midnight UTC, for buckets that hold objects. The simulator
// stores no objects: a bucket's Standard-storage size is a number in its
// state, seeded at creation and set by SetBucketSize.
const (
	s3MetricsNamespace = "AWS/S3"
	s3SizeMetric       = "BucketSizeBytes"
	s3StandardStorage  = "StandardStorage"
	s3Day              = int64(24 * 60 * 60)
)

// seededBucketBytes is a new bucket's size: 1 to 1000 GiB, fixed by the
// simulator's seed and the bucket's name, so seeded fleets have storage
// to price and reruns agree.
func seededBucketBytes(simSeed int64, name string) int64 {
	h := resourceSeed(simSeed, name)
	if h < 0 {
		h = -h
	}
	return (1 + h%1000) << 30
}

// SetBucketSize sets the Standard-storage size BucketSizeBytes reports for
// bucket from now on (0: an empty bucket, for which S3 publishes nothing).
func (s *Sim) SetBucketSize(bucket string, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("bucket %s: size %d bytes is negative", bucket, bytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.findBucket(bucket)
	if b == nil {
		return fmt.Errorf("bucket %s: no such bucket", bucket)
	}
	b.SizeBytes = bytes
	return nil
}

// bucketSizeSeries is BucketSizeBytes of the bucket the dimensions name
// (BucketName and StorageType=StandardStorage, exactly) in the account and
// region, over [start, end): one datapoint per midnight after the bucket's
// creation up to now. ok is false when the query names no such metric.
// Caller holds s.mu.
func (s *Sim) bucketSizeSeries(account, region string, m *cwMetric, start, end, now int64) (*series, bool) {
	if m.Namespace != s3MetricsNamespace || m.MetricName != s3SizeMetric || len(m.Dimensions) != 2 {
		return nil, false
	}
	var name, storage string
	for _, d := range m.Dimensions {
		switch d.Name {
		case "BucketName":
			name = d.Value
		case "StorageType":
			storage = d.Value
		}
	}
	st, _ := s.region(account, region).Ext["s3"].(*s3State)
	if st == nil || storage != s3StandardStorage {
		return nil, false
	}
	b, ok := st.buckets[name]
	if !ok || b.SizeBytes == 0 {
		return nil, false
	}
	first := max(b.Created.Unix()/s3Day+1, (start+s3Day-1)/s3Day) * s3Day
	sr := &series{unit: "Bytes"}
	for t := first; t < end && t <= now; t += s3Day {
		sr.custom = append(sr.custom, sample{t: t, value: float64(b.SizeBytes), count: 1})
	}
	return sr, true
}
