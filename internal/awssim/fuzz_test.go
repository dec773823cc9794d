package awssim

import (
	"encoding/xml"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzRequest sends body to service and checks the answer is either a
// well-formed XML document (200) or the protocol's own error envelope with a
// code and a 4xx/5xx status.
func fuzzRequest(t *testing.T, sim *Sim, service, body string, wantEnvelope func([]byte) (string, bool)) {
	w := httptest.NewRecorder()
	sim.Handler().ServeHTTP(w, coreSignedRequest(service, body))
	if w.Code == 200 {
		var doc struct{ XMLName xml.Name }
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil || !strings.HasSuffix(doc.XMLName.Local, "Response") {
			t.Fatalf("200 answer is not an XML response document (%v): %s", err, w.Body)
		}
		return
	}
	if w.Code < 400 || w.Code > 599 {
		t.Fatalf("status %d for %q", w.Code, body)
	}
	code, ok := wantEnvelope(w.Body.Bytes())
	if !ok || code == "" {
		t.Fatalf("status %d without the protocol's error envelope for %q: %s", w.Code, body, w.Body)
	}
}

func ec2Envelope(b []byte) (string, bool) {
	var e ec2ErrorEnvelope
	if xml.Unmarshal(b, &e) != nil || len(e.Errors) != 1 || e.RequestID == "" {
		return "", false
	}
	return e.Errors[0].Code, true
}

func queryEnvelope(b []byte) (string, bool) {
	var e queryErrorEnvelope
	if xml.Unmarshal(b, &e) != nil || e.RequestID == "" || (e.Error.Type != "Sender" && e.Error.Type != "Receiver") {
		return "", false
	}
	return e.Error.Code, true
}

func newFuzzSim(f *testing.F) *Sim {
	sim, err := New(Options{Clock: NewManualClock(testStart), Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		f.Fatal(err)
	}
	return sim
}

// FuzzEC2Request feeds arbitrary ec2query bodies to the EC2 handler. The
// seed corpus (testdata/fuzz/FuzzEC2Request plus the f.Add calls) runs in
// every plain go test.
func FuzzEC2Request(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag:a&Filter.1.Value.1=*&MaxResults=5",
		"Action=RunInstances&Version=2016-11-15&ImageId=ami-0123456789abcdef0&InstanceType=t3.small&MinCount=1&MaxCount=2&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=k",
		"Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=10&VolumeType=io2&Iops=100",
		"Action=DescribeVolumes&Version=2016-11-15&NextToken=MDp2b2wteA",
		"Action=CreateTags&Version=2016-11-15&ResourceId.1=i-0123456789abcdef0&Tag.1.Key=aws:x",
		"Action=DescribeInstances&Version=2016-11-15&InstanceId.01=i-1",
	} {
		f.Add(seed)
	}
	sim := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, body string) {
		fuzzRequest(t, sim, "ec2", body, ec2Envelope)
	})
}

// FuzzQueryRequest does the same for the awsquery protocol (STS).
func FuzzQueryRequest(f *testing.F) {
	for _, seed := range []string{
		"Action=GetCallerIdentity&Version=2011-06-15",
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::210987654321:role/r&RoleSessionName=s1&DurationSeconds=900",
		"Action=AssumeRole&Version=2011-06-15&RoleArn=x",
	} {
		f.Add(seed)
	}
	sim := newFuzzSim(f)
	f.Fuzz(func(t *testing.T, body string) {
		fuzzRequest(t, sim, "sts", body, queryEnvelope)
	})
}

// FuzzFormLists checks the list parsers on arbitrary forms: no panic, and
// either a protocol error or lists whose length matches the distinct indices.
func FuzzFormLists(f *testing.F) {
	f.Add("Filter.1.Name=a&Filter.1.Value.1=b&Filter.2.Name=c")
	f.Add("InstanceId.3=x&InstanceId.1=y")
	f.Add("Tags.member.1.Key=k&Tags.member.1.Value=v")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, parse := range []func() *APIError{
			func() *APIError { _, e := IndexedList(form, "InstanceId"); return e },
			func() *APIError { _, e := Filters(form, "Filter", "Value"); return e },
			func() *APIError { _, e := TagList(form, "Tags.member"); return e },
		} {
			if e := parse(); e != nil && (e.Status != 400 || e.Code == "" || e.Message == "") {
				t.Fatalf("parser error without a protocol code: %+v", e)
			}
		}
	})
}
