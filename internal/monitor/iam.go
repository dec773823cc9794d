package monitor

// RequiredIAMActions lists, sorted, the IAM actions monitoring calls:
// CloudWatch for utilisation, Cost Explorer for daily costs and commitment
// recommendations, the Pricing
// API and EC2's instance types for the estimator's catalogue. Read-only; the
// agent's policies are generated from this list (internal/iampolicy), and
// a test there fails when the code builds the input of an AWS call whose
// action no list names.
func RequiredIAMActions() []string {
	return []string{"ce:GetCostAndUsage", "ce:GetCostAndUsageWithResources", "ce:GetReservationPurchaseRecommendation", "ce:GetSavingsPlansCoverage",
		"ce:GetSavingsPlansPurchaseRecommendation", "cloudwatch:GetMetricData", "ec2:DescribeInstanceTypes", "pricing:GetProducts"}
}
