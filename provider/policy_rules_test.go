package provider

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// The provider's plan-time validators and the control plane's validation
// (policy.Check, which CreateOptimizationPolicy runs) must accept exactly
// the same values, or Terraform plans what the server refuses, or the
// server stores what Terraform cannot read back. Each side is probed
// independently: the accepted range of every number is searched for on
// both sides and compared, and every enum name the API defines (plus
// impostors) is put to both.

// serverAccepts: the control plane's verdict on a valid policy changed by
// set. A value the wire type cannot carry (an int32 field given 2^40) is
// refused: the provider would have to truncate it.
func serverAccepts(set func(*sirsiv1.OptimizationPolicy) bool) bool {
	p := &sirsiv1.OptimizationPolicy{
		TenantId: "ten-1", Name: "probe", ResourceTypes: []string{validation.ResourceEC2Instance},
		Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "0 2 * * 6",
		Rightsizing: &sirsiv1.RightsizingSettings{},
		Idle:        &sirsiv1.IdleSettings{},
		Verify:      &sirsiv1.VerifySettings{},
		Commitments: &sirsiv1.CommitmentSettings{},
	}
	if !set(p) {
		return false
	}
	var e validation.Errors
	policy.Check(&e, "optimization_policy", p)
	return e.Err() == nil
}

func int32Field(v int64, dst **int32) bool {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return false
	}
	n := int32(v)
	*dst = &n
	return true
}

func int32Value(v int64, dst *int32) bool {
	var p *int32
	if !int32Field(v, &p) {
		return false
	}
	*dst = *p
	return true
}

// numberRules says how each numeric attribute reaches the API.
var numberRules = map[string]func(p *sirsiv1.OptimizationPolicy, v float64) bool{
	"max_actions_per_run": func(p *sirsiv1.OptimizationPolicy, v float64) bool { return int32Field(int64(v), &p.MaxActionsPerRun) },
	"window_minutes":      func(p *sirsiv1.OptimizationPolicy, v float64) bool { return int32Field(int64(v), &p.WindowMinutes) },
	"cooldown_hours":      func(p *sirsiv1.OptimizationPolicy, v float64) bool { return int32Field(int64(v), &p.CooldownHours) },
	"verify.wait_minutes": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		return int32Value(int64(v), &p.Verify.WaitMinutes)
	},
	"rightsizing.lookback_days": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		// 0 on the wire means "the default", which Terraform sends
		// explicitly: the provider must refuse 0 itself.
		return v != 0 && int32Value(int64(v), &p.Rightsizing.LookbackDays)
	},
	"rightsizing.headroom_percent": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		return int32Value(int64(v), &p.Rightsizing.HeadroomPercent)
	},
	"rightsizing.min_monthly_savings": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		// What the provider would send: amounts beyond int64 micro-units
		// cannot be sent at all, and a negative amount stays negative
		// however small (rounded away from zero).
		m, err := money.FromFloat(v, money.USD)
		if err != nil {
			return false
		}
		if v < 0 && m.Micros == 0 {
			m.Micros = -1
		}
		p.Rightsizing.MinMonthlySavings = m
		return true
	},
	"idle.cpu_below_percent": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		p.Idle.CpuBelowPercent = v
		return true
	},
	"idle.network_below_bytes_per_day": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		p.Idle.NetworkBelowBytesPerDay = int64(v)
		return true
	},
	"idle.lookback_days": func(p *sirsiv1.OptimizationPolicy, v float64) bool {
		return v != 0 && int32Value(int64(v), &p.Idle.LookbackDays)
	},
}

// enumRules: attribute, the API enum it names, and how it reaches the API.
var enumRules = map[string]struct {
	enum protoreflect.EnumDescriptor
	set  func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber)
}{
	"mode": {sirsiv1.PolicyMode(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Mode = sirsiv1.PolicyMode(n)
	}},
	"execution": {sirsiv1.Execution(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Execution = sirsiv1.Execution(n)
	}},
	"rightsizing.statistic": {sirsiv1.Statistic(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Rightsizing.Statistic = sirsiv1.Statistic(n)
	}},
	"idle.action": {sirsiv1.IdleAction(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Idle.Action = sirsiv1.IdleAction(n)
	}},
	"commitments.savings_plans_type": {sirsiv1.SavingsPlansType(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Commitments.SavingsPlansType = sirsiv1.SavingsPlansType(n)
	}},
	"commitments.term": {sirsiv1.CommitmentTerm(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Commitments.Term = sirsiv1.CommitmentTerm(n)
	}},
	"commitments.payment_option": {sirsiv1.PaymentOption(0).Descriptor(), func(p *sirsiv1.OptimizationPolicy, n protoreflect.EnumNumber) {
		p.Commitments.PaymentOption = sirsiv1.PaymentOption(n)
	}},
}

// sharedRules are attributes whose provider validators call the same
// internal/validation function the server does (validators.go), so they
// cannot disagree; listing them keeps a new attribute from slipping past
// this test unchecked.
var sharedRules = []string{
	"tenant_id", "name", "description", "schedule", "timezone",
	"selector.account_ids", "selector.regions", "selector.tags", "selector.exclude_tags",
	"rightsizing.allowed_families",
	"offhours.stop_cron", "offhours.start_cron", "offhours.timezone", "offhours.skip_dates",
}

// policyAttributes flattens the policy schema: "rightsizing.lookback_days".
func policyAttributes(t *testing.T) map[string]schema.Attribute {
	t.Helper()
	var resp resource.SchemaResponse
	(&optimizationPolicyResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	out := map[string]schema.Attribute{}
	var walk func(prefix string, attrs map[string]schema.Attribute)
	walk = func(prefix string, attrs map[string]schema.Attribute) {
		for name, a := range attrs {
			if n, ok := a.(schema.SingleNestedAttribute); ok {
				walk(prefix+name+".", n.Attributes)
				continue
			}
			out[prefix+name] = a
		}
	}
	walk("", resp.Schema.Attributes)
	return out
}

func hasValidators(a schema.Attribute) bool {
	switch a := a.(type) {
	case schema.Int64Attribute:
		return len(a.Validators) > 0
	case schema.Float64Attribute:
		return len(a.Validators) > 0
	case schema.StringAttribute:
		return len(a.Validators) > 0
	case schema.SetAttribute:
		return len(a.Validators) > 0
	case schema.MapAttribute:
		return len(a.Validators) > 0
	}
	return false
}

func attrPath(name string) path.Path {
	parts := strings.Split(name, ".")
	p := path.Root(parts[0])
	for _, s := range parts[1:] {
		p = p.AtName(s)
	}
	return p
}

// providerAcceptsNumber runs the attribute's own validators on v.
func providerAcceptsNumber(t *testing.T, name string, a schema.Attribute, v float64) bool {
	ctx := context.Background()
	switch a := a.(type) {
	case schema.Int64Attribute:
		if v != math.Trunc(v) || math.Abs(v) > 1<<62 {
			t.Fatalf("%s: probing an int64 attribute with %v", name, v)
		}
		for _, val := range a.Validators {
			var resp validator.Int64Response
			val.ValidateInt64(ctx, validator.Int64Request{Path: attrPath(name), ConfigValue: types.Int64Value(int64(v))}, &resp)
			if resp.Diagnostics.HasError() {
				return false
			}
		}
		return true
	case schema.Float64Attribute:
		for _, val := range a.Validators {
			var resp validator.Float64Response
			val.ValidateFloat64(ctx, validator.Float64Request{Path: attrPath(name), ConfigValue: types.Float64Value(v)}, &resp)
			if resp.Diagnostics.HasError() {
				return false
			}
		}
		return true
	}
	t.Fatalf("%s is a %T, not a number", name, a)
	return false
}

func providerAcceptsString(t *testing.T, name string, a schema.Attribute, s string) bool {
	ctx := context.Background()
	switch a := a.(type) {
	case schema.StringAttribute:
		for _, val := range a.Validators {
			var resp validator.StringResponse
			val.ValidateString(ctx, validator.StringRequest{Path: attrPath(name), ConfigValue: types.StringValue(s)}, &resp)
			if resp.Diagnostics.HasError() {
				return false
			}
		}
		return true
	case schema.SetAttribute:
		set := types.SetValueMust(types.StringType, []attr.Value{types.StringValue(s)})
		for _, val := range a.Validators {
			var resp validator.SetResponse
			val.ValidateSet(ctx, validator.SetRequest{Path: attrPath(name), ConfigValue: set}, &resp)
			if resp.Diagnostics.HasError() {
				return false
			}
		}
		return true
	}
	t.Fatalf("%s is a %T, not a string or set of strings", name, a)
	return false
}

// accepted is the interval of values accepts takes, found by bisection
// from a value it accepts out to ±limit (±limit itself means unbounded).
// Both sides check ranges, so their accepted sets are intervals; the
// probes at the edges below confirm it.
func accepted(accepts func(float64) bool, inside, limit float64, integer bool) (lo, hi float64) {
	edge := func(in, out float64) float64 {
		if accepts(out) {
			return out
		}
		for i := 0; i < 200; i++ {
			mid := in + (out-in)/2
			if integer {
				mid = math.Trunc(mid)
				if math.Abs(out-in) <= 1 {
					return in
				}
			}
			if mid == in || mid == out {
				break
			}
			if accepts(mid) {
				in = mid
			} else {
				out = mid
			}
		}
		return in
	}
	return edge(inside, -limit), edge(inside, limit)
}

func TestPolicyProviderAndServerAgreeOnBounds(t *testing.T) {
	attrs := policyAttributes(t)
	for name, a := range attrs {
		_, isNumber := numberRules[name]
		_, isEnum := enumRules[name]
		if hasValidators(a) && !isNumber && !isEnum && name != "resource_types" && !slices.Contains(sharedRules, name) {
			t.Errorf("%s has plan-time validators but no provider/server agreement check here", name)
		}
	}
	for name, set := range numberRules {
		a, ok := attrs[name]
		if !ok {
			t.Errorf("%s: not in the schema", name)
			continue
		}
		_, integer := a.(schema.Int64Attribute)
		// Beyond 1e15 a float64 no longer resolves fractions of a cent.
		limit := 1e15
		if integer {
			limit = 1 << 62
		}
		provider := func(v float64) bool { return providerAcceptsNumber(t, name, a, v) }
		server := func(v float64) bool {
			return serverAccepts(func(p *sirsiv1.OptimizationPolicy) bool { return set(p, v) })
		}
		// 1 is inside every policy range (percentages, counts, days).
		if !provider(1) || !server(1) {
			t.Errorf("%s: 1 refused (provider %t, server %t)", name, provider(1), server(1))
			continue
		}
		plo, phi := accepted(provider, 1, limit, integer)
		slo, shi := accepted(server, 1, limit, integer)
		if math.Abs(plo-slo) > 1e-9 || math.Abs(phi-shi) > 1e-9*math.Max(1, math.Abs(shi)) {
			t.Errorf("%s: provider accepts %g..%g, server %g..%g", name, plo, phi, slo, shi)
			continue
		}
		// At and just beyond each edge both sides give the same answer.
		step := 1.0
		if !integer {
			step = 1e-6
		}
		for _, v := range []float64{plo - step, plo, phi, phi + step} {
			if math.Abs(v) >= limit {
				continue
			}
			if provider(v) != server(v) {
				t.Errorf("%s = %g: provider accepts %t, server %t", name, v, provider(v), server(v))
			}
		}
		t.Logf("%s: %g..%g on both sides", name, plo, phi)
	}
}

func TestPolicyProviderAndServerAgreeOnEnums(t *testing.T) {
	attrs := policyAttributes(t)
	for name, rule := range enumRules {
		a, ok := attrs[name]
		if !ok {
			t.Errorf("%s: not in the schema", name)
			continue
		}
		names := validation.EnumStrings(rule.enum)
		if len(names) == 0 {
			t.Fatalf("%s: the API enum %s has no values", name, rule.enum.FullName())
		}
		// Every API name, and what a hand-written list might get wrong.
		probes := append(slices.Clone(names), "", "unspecified", "UNSPECIFIED", strings.ToUpper(names[0]), string(rule.enum.Values().Get(1).Name()), "bogus")
		for _, s := range probes {
			p := providerAcceptsString(t, name, a, s)
			// The server takes numbers: s stands for one only if it is
			// exactly the canonical name of a defined value.
			srv := false
			if i := slices.Index(names, s); i >= 0 {
				n := definedValues(rule.enum)[i]
				srv = serverAccepts(func(pol *sirsiv1.OptimizationPolicy) bool { rule.set(pol, n); return true })
			}
			if p != srv {
				t.Errorf("%s = %q: provider accepts %t, server %t", name, s, p, srv)
			}
		}
		var accepted []string
		for _, s := range names {
			if providerAcceptsString(t, name, a, s) {
				accepted = append(accepted, s)
			}
		}
		t.Logf("%s: %v", name, accepted)
	}
}

// definedValues are an enum's numbers other than UNSPECIFIED, in the order
// validation.EnumStrings names them.
func definedValues(d protoreflect.EnumDescriptor) []protoreflect.EnumNumber {
	var out []protoreflect.EnumNumber
	for i := 0; i < d.Values().Len(); i++ {
		if n := d.Values().Get(i).Number(); n != 0 {
			out = append(out, n)
		}
	}
	return out
}

// The drift this test exists for: the provider offered five resource
// types while the server took every discovered one.
func TestPolicyProviderAndServerAgreeOnResourceTypes(t *testing.T) {
	a := policyAttributes(t)["resource_types"]
	probes := append(slices.Clone(validation.ResourceTypes), "aws_bogus", "", "AWS_EC2_INSTANCE")
	var both []string
	for _, rt := range probes {
		p := providerAcceptsString(t, "resource_types", a, rt)
		srv := serverAccepts(func(pol *sirsiv1.OptimizationPolicy) bool { pol.ResourceTypes = []string{rt}; return true })
		if p != srv {
			t.Errorf("resource type %q: provider accepts %t, server %t", rt, p, srv)
		}
		if p && srv {
			both = append(both, rt)
		}
	}
	sort.Strings(both)
	if !slices.Equal(both, policy.ResourceTypes) {
		t.Errorf("both accept %v, want the covered types %v", both, policy.ResourceTypes)
	}
}

// What Terraform plans for a policy that leaves every optional setting
// out is what the server stores: ApplyDefaults finds nothing to fill in.
func TestPolicyProviderDefaultsAreTheServers(t *testing.T) {
	ctx := context.Background()
	planned := optimizationPolicyModel{
		TenantID:         types.StringValue("ten-1"),
		Name:             types.StringValue("minimal"),
		Description:      types.StringNull(),
		Mode:             types.StringValue(defaultPolicyMode),
		ResourceTypes:    types.SetValueMust(types.StringType, []attr.Value{types.StringValue(validation.ResourceEIP)}),
		Selector:         types.ObjectNull(selectorAttrTypes),
		Rightsizing:      defaultRightsizingObject(),
		Idle:             types.ObjectNull(idleAttrTypes),
		Offhours:         types.ObjectNull(offhoursAttrTypes),
		Schedule:         types.StringNull(),
		Timezone:         types.StringValue(policy.DefaultTimezone),
		MaxActionsPerRun: types.Int64Value(policy.DefaultMaxActionsPerRun),
		Verify:           defaultVerifyObject(),
		DryRun:           types.BoolValue(false),
		WindowMinutes:    types.Int64Value(policy.DefaultWindowMinutes),
		CooldownHours:    types.Int64Value(policy.DefaultCooldownHours),
		Commitments:      defaultCommitmentsObject(),
		Hibernate:        types.BoolValue(policy.DefaultHibernate),
		Execution:        types.StringValue(defaultExecution),
	}
	sent, diags := policyToProto(ctx, planned)
	if diags.HasError() {
		t.Fatalf("to proto: %v", diags)
	}
	stored := proto.Clone(sent).(*sirsiv1.OptimizationPolicy)
	policy.ApplyDefaults(stored)
	if !proto.Equal(sent, stored) {
		t.Errorf("the server fills in defaults Terraform did not plan:\n sent:   %v\n stored: %v", sent, stored)
	}
	// The agent reads the same values as the unset fields' defaults.
	bare := &sirsiv1.OptimizationPolicy{}
	if policy.MaxActions(bare) != policy.MaxActions(sent) || policy.WindowMinutes(bare) != policy.WindowMinutes(sent) ||
		policy.Cooldown(bare) != policy.Cooldown(sent) || policy.LookbackDays(bare) != policy.LookbackDays(sent) ||
		policy.RollbackOnFailure(bare) != policy.RollbackOnFailure(sent) ||
		!proto.Equal(policy.Commitments(bare), policy.Commitments(sent)) {
		t.Errorf("an unset field means something else to the agent than Terraform's default: %v", sent)
	}
}
