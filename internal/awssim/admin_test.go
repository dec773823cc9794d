package awssim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func adminDo(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if strings.HasPrefix(url[strings.LastIndex(url, "/"):], "/state") {
		var list []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatalf("decoding %s: %v", url, err)
		}
		return resp.StatusCode, map[string]any{"list": list}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding %s: %v", url, err)
	}
	return resp.StatusCode, out
}

func TestAdminEndpoint(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	id := aws.ToString(runOne(t, c, "m5.large", nil).InstanceId)

	if st, _ := adminDo(t, "PUT", ts.URL+"/_sim/faults", `{"throttle_ratio": 1, "services": ["ec2"]}`); st != 200 {
		t.Fatalf("PUT faults: %d", st)
	}
	if code := apiCode(t, func() error { _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); return err }()); code != "RequestLimitExceeded" {
		t.Fatalf("fault set over HTTP not applied: %s", code)
	}
	if st, body := adminDo(t, "PUT", ts.URL+"/_sim/faults", `{"throttle_ratio": 1, "colour": "red"}`); st != 400 || !strings.Contains(body["error"].(string), "colour") {
		t.Fatalf("unknown field: %d %v", st, body)
	}
	if st, _ := adminDo(t, "DELETE", ts.URL+"/_sim/faults", ""); st != 200 {
		t.Fatalf("DELETE faults: %d", st)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}
	st, body := adminDo(t, "POST", ts.URL+"/_sim/faults/fail-next", `{"service":"ec2","action":"ModifyInstanceAttribute","resource_id":"`+id+`"}`)
	if st != 200 || len(body["fail_next"].([]any)) != 1 {
		t.Fatalf("fail-next: %d %v", st, body)
	}
	st, body = adminDo(t, "POST", ts.URL+"/_sim/faults/status-checks", `{"instance_id":"`+id+`","fail":true}`)
	if st != 200 || body["fail_status_checks"].([]any)[0] != id {
		t.Fatalf("status-checks: %d %v", st, body)
	}
	if st, body := adminDo(t, "PUT", ts.URL+"/_sim/throttle", `{"scale": -1}`); st != 400 {
		t.Fatalf("bad throttle scale: %d %v", st, body)
	}
	st, body = adminDo(t, "GET", ts.URL+"/_sim/state", "")
	list := body["list"].([]map[string]any)
	if st != 200 || len(list) != 1 || list[0]["region"] != "us-east-1" || list[0]["instances"].(map[string]any)["running"] != float64(1) {
		t.Fatalf("state: %d %v", st, list)
	}
	if st, _ := adminDo(t, "GET", ts.URL+"/_sim/nothing", ""); st != 404 {
		t.Fatalf("unknown admin route: %d", st)
	}
}
