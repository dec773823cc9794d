package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// moneyValue is an amount as Terraform shows it: a number rounded to cents
// (Terraform numbers are decimal, so 12.34 stays 12.34), null when the
// amount is unknown, never 0 in its place.
func moneyValue(m *sirsiv1.Money) types.Float64 {
	v, ok := money.CentsFloat(m)
	if !ok {
		return types.Float64Null()
	}
	return types.Float64Value(v)
}

// moneyFromAttr is the amount a US-dollar number attribute asks for; nil
// when it is null or unknown.
func moneyFromAttr(v types.Float64) *sirsiv1.Money {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return money.USDFromFloat(v.ValueFloat64())
}

// currencyValue names the currency of amounts; null when there is none.
func currencyValue(m *sirsiv1.Money) types.String {
	if m == nil {
		return types.StringNull()
	}
	return types.StringValue(m.GetCurrencyCode())
}
