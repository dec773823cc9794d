package awssim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// TestAWSCLIEC2AndSTS drives the simulator with the installed AWS CLI
// (botocore's serializers and parsers, not the Go SDK's) and asserts on its
// parsed JSON output.
func TestAWSCLIEC2AndSTS(t *testing.T) {
	ts := startSim(t, Options{})
	var run struct {
		Instances []struct {
			InstanceID   string `json:"InstanceId"`
			InstanceType string
			State        struct{ Name string }
		}
	}
	out := awstest.CLI(t, ts.URL, "ec2", "run-instances", "--image-id", "ami-0123456789abcdef0", "--instance-type", "t3.small",
		"--count", "2", "--tag-specifications", "ResourceType=instance,Tags=[{Key=team,Value=cli}]")
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("run-instances output: %v\n%s", err, out)
	}
	if len(run.Instances) != 2 || run.Instances[0].InstanceType != "t3.small" || run.Instances[0].State.Name != "pending" {
		t.Fatalf("run-instances = %+v", run)
	}
	id := run.Instances[0].InstanceID

	var desc struct {
		Reservations []struct {
			Instances []struct {
				InstanceID string `json:"InstanceId"`
				State      struct{ Name string }
				Tags       []struct{ Key, Value string }
			}
		}
	}
	out = awstest.CLI(t, ts.URL, "ec2", "describe-instances", "--filters", "Name=tag:team,Values=cli", "Name=instance-state-name,Values=running")
	if err := json.Unmarshal(out, &desc); err != nil {
		t.Fatalf("describe-instances output: %v\n%s", err, out)
	}
	n := 0
	for _, r := range desc.Reservations {
		for _, in := range r.Instances {
			n++
			if len(in.Tags) != 1 || in.Tags[0].Key != "team" || in.Tags[0].Value != "cli" {
				t.Errorf("%s tags = %+v", in.InstanceID, in.Tags)
			}
		}
	}
	if n != 2 {
		t.Fatalf("describe-instances found %d running team=cli instances, want 2", n)
	}

	res := awstest.RunCLI(t, ts.URL, "ec2", "modify-instance-attribute", "--instance-id", id, "--instance-type", "Value=m5.large")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "IncorrectInstanceState") {
		t.Fatalf("modify while running: exit %d, %s", res.ExitCode, res.Stderr)
	}
	var stop struct {
		StoppingInstances []struct {
			CurrentState, PreviousState struct{ Name string }
		}
	}
	out = awstest.CLI(t, ts.URL, "ec2", "stop-instances", "--instance-ids", id)
	if err := json.Unmarshal(out, &stop); err != nil || len(stop.StoppingInstances) != 1 || stop.StoppingInstances[0].PreviousState.Name != "running" {
		t.Fatalf("stop-instances: %v %s", err, out)
	}
	awstest.CLI(t, ts.URL, "ec2", "modify-instance-attribute", "--instance-id", id, "--instance-type", "Value=m5.large")

	var vols struct {
		Volumes []struct {
			VolumeType  string
			Size        int
			Attachments []struct {
				InstanceID string `json:"InstanceId"`
			}
		}
	}
	out = awstest.CLI(t, ts.URL, "ec2", "describe-volumes", "--filters", "Name=attachment.instance-id,Values="+id)
	if err := json.Unmarshal(out, &vols); err != nil || len(vols.Volumes) != 1 || vols.Volumes[0].VolumeType != "gp3" || vols.Volumes[0].Size != 8 {
		t.Fatalf("describe-volumes: %v %s", err, out)
	}

	var ident struct{ Account, Arn string }
	out = awstest.CLI(t, ts.URL, "sts", "get-caller-identity")
	if err := json.Unmarshal(out, &ident); err != nil || ident.Account != DefaultAccountID {
		t.Fatalf("get-caller-identity: %v %s", err, out)
	}
	res = awstest.RunCLI(t, ts.URL, "ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "InvalidInstanceID.NotFound") {
		t.Fatalf("describe unknown instance: exit %d, %s", res.ExitCode, res.Stderr)
	}
}
