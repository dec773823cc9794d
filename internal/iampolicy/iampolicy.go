// Package iampolicy renders the agent's IAM policies from the code's own
// lists of the calls it makes: discovery's and monitoring's (read-only) and
// the actuator's (acting). `make generate` writes them to deploy/iam/, where
// the docs and the Terraform module deploy/terraform/aws-agent take them
// from; CI fails when the files differ from what the code needs.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/discovery"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/monitor"
)

// OptOutTag is the tag whose value "false" keeps a resource out of every
// action; the acting policy enforces it in IAM too, not only in the agent.
const OptOutTag = actuator.TagOptimize

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document.
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  string                    `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// policyVersion is IAM's current policy language version.
const policyVersion = "2012-10-17"

// ReadOnlyActions are what discovery, monitoring and the agent's
// credentials check call: enough for policies in recommend mode.
func ReadOnlyActions() []string {
	return sortedUnion(discovery.RequiredIAMActions(), monitor.RequiredIAMActions(), agent.RequiredIAMActions())
}

// ActingActions are what the actuator calls, for policies in approve or
// auto mode, on top of ReadOnlyActions.
func ActingActions() []string { return actuator.RequiredIAMActions() }

// ReadOnly is the policy for discovery and monitoring.
func ReadOnly() Document {
	return Document{Version: policyVersion, Statement: []Statement{{
		Sid: "SirsiNexusAgentReadOnly", Effect: "Allow", Action: ReadOnlyActions(), Resource: "*",
	}}}
}

// Acting is the policy for the actuator, on top of ReadOnly. Reads
// (Describe*, Get*, List*) cannot be limited by a resource's tags, so they
// have a statement of their own. Every change is allowed only on resources
// that do not carry OptOutTag=false (a negated condition also matches
// resources without the tag); the agent may write only its own sirsi:*
// bookkeeping tags, and never OptOutTag itself, so even a compromised agent
// cannot opt a resource back in.
func Acting() Document {
	var reads, tags, writes []string
	for _, a := range ActingActions() {
		switch {
		case isRead(a):
			reads = append(reads, a)
		case isTagging(a):
			tags = append(tags, a)
		default:
			writes = append(writes, a)
		}
	}
	notOptedOut := map[string]any{"aws:ResourceTag/" + OptOutTag: "false"}
	st := []Statement{
		{Sid: "SirsiNexusAgentActionChecks", Effect: "Allow", Action: reads, Resource: "*"},
		{Sid: "SirsiNexusAgentActions", Effect: "Allow", Action: writes, Resource: "*",
			Condition: map[string]map[string]any{"StringNotEquals": notOptedOut}},
	}
	if len(tags) > 0 {
		st = append(st,
			Statement{Sid: "SirsiNexusAgentBookkeepingTags", Effect: "Allow", Action: tags, Resource: "*",
				Condition: map[string]map[string]any{
					"StringNotEquals":         notOptedOut,
					"ForAllValues:StringLike": {"aws:TagKeys": []string{"sirsi:*"}},
				}},
			Statement{Sid: "SirsiNexusAgentNeverTouchesTheOptOutTag", Effect: "Deny",
				Action: sortedUnion(tags, []string{"ec2:DeleteTags"}), Resource: "*",
				Condition: map[string]map[string]any{"ForAnyValue:StringEquals": {"aws:TagKeys": []string{OptOutTag}}}},
		)
	}
	if slices.Contains(writes, "ec2:CreateSnapshot") {
		// The snapshot taken before a volume is deleted carries the
		// volume's own tags (so it can be found and billed like it); EC2
		// authorises tags given at creation as ec2:CreateTags on the new
		// snapshot, which only this statement allows for other keys.
		st = append(st, Statement{Sid: "SirsiNexusAgentTagsSnapshotsItTakes", Effect: "Allow", Action: []string{"ec2:CreateTags"},
			Resource: "arn:aws:ec2:*::snapshot/*", Condition: map[string]map[string]any{"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}}})
	}
	return Document{Version: policyVersion, Statement: st}
}

// TrustPlaceholders are the values Trust's example leaves to the reader.
const (
	TrustPrincipalPlaceholder  = "arn:aws:iam::AGENT_ACCOUNT_ID:role/AGENT_BASE_ROLE"
	TrustExternalIDPlaceholder = "EXTERNAL_ID_OF_THE_SIRSI_CLOUD_ACCOUNT"
)

// Trust is an example trust policy for the role the agent assumes: only
// the agent's base identity may assume it, and only with the cloud
// account's external id (the confused-deputy guard).
func Trust() Document {
	return Document{Version: policyVersion, Statement: []Statement{{
		Sid: "SirsiNexusAgentAssumeRole", Effect: "Allow",
		Principal: map[string]string{"AWS": TrustPrincipalPlaceholder},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]any{"StringEquals": {"sts:ExternalId": TrustExternalIDPlaceholder}},
	}}}
}

// Files are the generated files under deploy/iam/, by name.
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, doc := range map[string]Document{
		"agent-read-only.json": ReadOnly(),
		"agent-acting.json":    Acting(),
		"agent-trust.json":     Trust(),
	} {
		b, err := marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

func marshal(doc Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func isRead(action string) bool {
	op := action[strings.IndexByte(action, ':')+1:]
	return strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List")
}

func isTagging(action string) bool {
	op := action[strings.IndexByte(action, ':')+1:]
	return op == "CreateTags" || op == "TagResource" || op == "AddTagsToResource"
}

func sortedUnion(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
