package awstest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

const ec2Describe = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <reservationSet>
    <item>
      <reservationId>r-0123</reservationId>
      <ownerId>123456789012</ownerId>
      <instancesSet>
        <item>
          <instanceId>i-0123456789abcdef0</instanceId>
          <instanceType>t3.micro</instanceType>
          <instanceState><code>16</code><name>running</name></instanceState>
          <launchTime>2026-01-02T03:04:05.000Z</launchTime>
          <tagSet><item><key>Name</key><value>web</value></item></tagSet>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
</DescribeInstancesResponse>`

const rdsDescribe = `<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances>
      <DBInstance>
        <DBInstanceIdentifier>db1</DBInstanceIdentifier>
        <DBInstanceClass>db.t3.micro</DBInstanceClass>
        <AllocatedStorage>20</AllocatedStorage>
        <MultiAZ>false</MultiAZ>
        <InstanceCreateTime>2026-01-02T03:04:05Z</InstanceCreateTime>
        <TagList><Tag><Key>env</Key><Value>prod</Value></Tag></TagList>
      </DBInstance>
    </DBInstances>
  </DescribeDBInstancesResult>
  <ResponseMetadata><RequestId>abc</RequestId></ResponseMetadata>
</DescribeDBInstancesResponse>`

const s3List = `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>
  <Buckets><Bucket><Name>b1</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate></Bucket></Buckets>
</ListAllMyBucketsResult>`

const lambdaConfig = `{"FunctionName":"f","MemorySize":128,"Timeout":3,"Architectures":["x86_64"],
 "LastModified":"2026-01-02T03:04:05.000+0000","State":"Active","Environment":{"Variables":{"A":"b"}}}`

func TestValidateAcceptsWellFormedDocuments(t *testing.T) {
	cases := []struct{ service, op, body string }{
		{"ec2", "DescribeInstances", ec2Describe},
		{"ec2", "CreateTags", `<CreateTagsResponse><requestId>x</requestId><return>true</return></CreateTagsResponse>`},
		{"ec2", "AssociateAddress", `<AssociateAddressResponse><requestId>x</requestId><return>true</return><associationId>eipassoc-1</associationId></AssociateAddressResponse>`},
		{"rds", "DescribeDBInstances", rdsDescribe},
		{"s3", "ListBuckets", s3List},
		{"s3", "GetBucketLocation", `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>`},
		{"s3", "GetBucketLocation", `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`},
		{"s3", "GetBucketTagging", `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`},
		{"s3", "CreateBucket", ``},
		{"lambda", "GetFunctionConfiguration", lambdaConfig},
		{"ce", "GetCostForecast", `{"Total":{"Amount":"1.5","Unit":"USD"},"ForecastResultsByTime":[{"TimePeriod":{"Start":"2026-01-01","End":"2026-02-01"},"MeanValue":"1.5"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.service+"/"+tc.op, func(t *testing.T) {
			m := RequireModel(t, tc.service)
			if err := m.ValidateResponse(tc.op, []byte(tc.body)); err != nil {
				t.Fatalf("well-formed document rejected: %v", err)
			}
		})
	}
}

func TestValidateRejectsMistakes(t *testing.T) {
	cases := []struct {
		name, service, op, body, wantProblem string
	}{
		{"ec2 misnamed member", "ec2", "DescribeInstances",
			strings.Replace(ec2Describe, "<instanceType>t3.micro</instanceType>", "<InstanceType>t3.micro</InstanceType>", 1), "unknown member <InstanceType>"},
		{"ec2 wrong list wrapper", "ec2", "DescribeInstances",
			strings.Replace(ec2Describe, "<tagSet><item><key>Name</key><value>web</value></item></tagSet>", "<tagSet><member><key>Name</key><value>web</value></member></tagSet>", 1), "want <item>"},
		{"ec2 wrong type", "ec2", "DescribeInstances",
			strings.Replace(ec2Describe, "<code>16</code>", "<code>sixteen</code>", 1), "is not a integer"},
		{"ec2 bad timestamp", "ec2", "DescribeInstances",
			strings.Replace(ec2Describe, "2026-01-02T03:04:05.000Z", "yesterday", 1), "not an ISO 8601"},
		{"ec2 bad enum", "ec2", "DescribeInstances",
			strings.Replace(ec2Describe, "<name>running</name>", "<name>Running</name>", 1), "not a value of enum"},
		{"ec2 missing requestId", "ec2", "DescribeInstances",
			strings.Replace(ec2Describe, "<requestId>r-1</requestId>", "", 1), "requestId"},
		{"ec2 return not boolean", "ec2", "AssociateAddress",
			`<AssociateAddressResponse><requestId>x</requestId><return>yes</return></AssociateAddressResponse>`, "not a boolean"},
		{"ec2 wrong root", "ec2", "DescribeInstances",
			strings.ReplaceAll(ec2Describe, "DescribeInstancesResponse", "DescribeInstancesResult"), "want <DescribeInstancesResponse>"},
		{"query misnamed member", "rds", "DescribeDBInstances",
			strings.Replace(rdsDescribe, "<MultiAZ>false</MultiAZ>", "<MultiAz>false</MultiAz>", 1), "unknown member <MultiAz>"},
		{"query item instead of member name", "rds", "DescribeDBInstances",
			strings.Replace(rdsDescribe, "<Tag><Key>env</Key><Value>prod</Value></Tag>", "<member><Key>env</Key><Value>prod</Value></member>", 1), "want <Tag>"},
		{"query missing result wrapper", "rds", "DescribeDBInstances",
			strings.ReplaceAll(rdsDescribe, "DescribeDBInstancesResult", "DBInstancesResult"), "DescribeDBInstancesResult"},
		{"query boolean", "rds", "DescribeDBInstances",
			strings.Replace(rdsDescribe, "<MultiAZ>false</MultiAZ>", "<MultiAZ>False</MultiAZ>", 1), "not a boolean"},
		{"query duplicate member", "rds", "DescribeDBInstances",
			strings.Replace(rdsDescribe, "<MultiAZ>false</MultiAZ>", "<MultiAZ>false</MultiAZ><MultiAZ>true</MultiAZ>", 1), "appears 2 times"},
		{"query no metadata", "rds", "DescribeDBInstances",
			strings.Replace(rdsDescribe, "<ResponseMetadata><RequestId>abc</RequestId></ResponseMetadata>", "", 1), "ResponseMetadata"},
		{"rest-xml misnamed", "s3", "ListBuckets",
			strings.Replace(s3List, "<Name>b1</Name>", "<BucketName>b1</BucketName>", 1), "unknown member <BucketName>"},
		{"rest-xml required", "s3", "GetBucketTagging", `<Tagging></Tagging>`, "required member TagSet"},
		{"rest-xml scalar root", "s3", "GetBucketLocation", `<Location>eu-west-1</Location>`, "want <LocationConstraint>"},
		{"rest-xml enum", "s3", "GetBucketLocation", `<LocationConstraint>mars-1</LocationConstraint>`, "not a value of enum"},
		{"rest-json casing", "lambda", "GetFunctionConfiguration",
			strings.Replace(lambdaConfig, `"MemorySize"`, `"memorySize"`, 1), `unknown member "memorySize"`},
		{"rest-json type", "lambda", "GetFunctionConfiguration",
			strings.Replace(lambdaConfig, `"MemorySize":128`, `"MemorySize":"128"`, 1), "want a integer"},
		{"rest-json list wrapper", "lambda", "GetFunctionConfiguration",
			strings.Replace(lambdaConfig, `["x86_64"]`, `"x86_64"`, 1), "want an array"},
		{"rest-json enum", "lambda", "GetFunctionConfiguration",
			strings.Replace(lambdaConfig, `"Active"`, `"ACTIVE"`, 1), "not a value of enum"},
		{"rest-json null", "lambda", "GetFunctionConfiguration",
			strings.Replace(lambdaConfig, `"Timeout":3`, `"Timeout":null`, 1), "null"},
		{"json map wrapper", "lambda", "GetFunctionConfiguration",
			strings.Replace(lambdaConfig, `{"Variables":{"A":"b"}}`, `{"Variables":[{"Key":"A","Value":"b"}]}`, 1), "want an object for map"},
		{"json protocol misnamed", "ce", "GetCostForecast",
			`{"Total":{"amount":"1.5","Unit":"USD"}}`, `unknown member "amount"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := RequireModel(t, tc.service)
			err := m.ValidateResponse(tc.op, []byte(tc.body))
			if err == nil {
				t.Fatalf("validator accepted a document with a mistake (%s)", tc.wantProblem)
			}
			if !strings.Contains(err.Error(), tc.wantProblem) {
				t.Fatalf("error does not mention %q:\n%v", tc.wantProblem, err)
			}
		})
	}
}

func TestValidateCBOR(t *testing.T) {
	m := RequireModel(t, "cloudwatch")
	ts := cbor.Tag{Number: 1, Content: float64(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).Unix())}
	good := map[string]any{
		"MetricDataResults": []any{map[string]any{
			"Id": "q1", "Label": "CPUUtilization", "StatusCode": "Complete",
			"Timestamps": []any{ts}, "Values": []any{1.5},
		}},
	}
	body, err := cbor.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ValidateResponse("GetMetricData", body); err != nil {
		t.Fatalf("well-formed CBOR rejected: %v", err)
	}
	bad := map[string]any{
		"MetricDataResults": []any{map[string]any{
			"Id": "q1", "StatusCode": "Done", "Timestamps": []any{"2026-01-02"}, "Values": []any{"1.5"}, "Extra": 1,
		}},
	}
	body, err = cbor.Marshal(bad)
	if err != nil {
		t.Fatal(err)
	}
	err = m.ValidateResponse("GetMetricData", body)
	if err == nil {
		t.Fatal("validator accepted a CBOR document with four mistakes")
	}
	for _, want := range []string{`"Done" is not a value of enum`, "tag 1 timestamp", "want a double", `unknown member "Extra"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestValidateError(t *testing.T) {
	cases := []struct {
		name, service string
		status        int
		header        http.Header
		body          string
		wantCode      string
		wantErr       bool
	}{
		{"query ok", "rds", 404, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`, "DBInstanceNotFound", false},
		{"query wrong status", "rds", 400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`, "DBInstanceNotFound", true},
		{"query ec2 envelope", "rds", 400, nil, `<Response><Errors><Error><Code>X</Code><Message>m</Message></Error></Errors><RequestID>1</RequestID></Response>`, "", true},
		{"ec2 ok", "ec2", 400, nil, `<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>m</Message></Error></Errors><RequestID>1</RequestID></Response>`, "InvalidInstanceID.NotFound", false},
		{"s3 ok", "s3", 404, nil, `<Error><Code>NoSuchBucket</Code><Message>m</Message><BucketName>b</BucketName><RequestId>1</RequestId><HostId>h</HostId></Error>`, "NoSuchBucket", false},
		{"s3 no request id", "s3", 404, nil, `<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>`, "", true},
		{"rest-json ok", "lambda", 404, http.Header{"X-Amzn-Errortype": {"ResourceNotFoundException"}}, `{"Type":"User","Message":"m"}`, "ResourceNotFoundException", false},
		{"rest-json unknown member", "lambda", 404, http.Header{"X-Amzn-Errortype": {"ResourceNotFoundException"}}, `{"Type":"User","message":"m","Code":"x"}`, "ResourceNotFoundException", true},
		{"rest-json no code", "lambda", 404, nil, `{"Type":"User","message":"m"}`, "", true},
		{"json ok", "ce", 400, nil, `{"__type":"com.amazonaws#DataUnavailableException","message":"m"}`, "DataUnavailableException", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := RequireModel(t, tc.service)
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			code, err := m.ValidateError(tc.status, h, []byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("ValidateError err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && code != tc.wantCode {
				t.Fatalf("code = %q, want %q", code, tc.wantCode)
			}
		})
	}
}

func TestValidateUnknownOperation(t *testing.T) {
	m := RequireModel(t, "rds")
	if err := m.ValidateResponse("DescribeNothing", []byte("<x/>")); err == nil {
		t.Fatal("unknown operation accepted")
	}
}
