# Open right-sizing recommendations worth at least 20 a month.
data "sirsi_recommendations" "ec2" {
  resource_type       = "aws_ec2_instance"
  min_monthly_savings = 20
  status              = "open"
}

output "recommended_monthly_savings" {
  value = data.sirsi_recommendations.ec2.total_monthly_savings
}

output "resizes" {
  value = [
    for r in data.sirsi_recommendations.ec2.items :
    "${r.resource_id}: ${r.current_size} -> ${r.proposed_size} (${r.estimated_monthly_savings}/month, ${r.reason})"
  ]
}
