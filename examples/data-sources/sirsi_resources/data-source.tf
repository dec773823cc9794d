# Every production EC2 instance the agents discovered in eu-west-1.
data "sirsi_resources" "prod_instances" {
  type   = "aws_ec2_instance"
  region = "eu-west-1"
  tags   = { env = "prod" }
}

# Instances whose price is unknown (monthly_cost null) are left out and
# counted separately.
output "prod_instance_monthly_cost" {
  value = sum(concat([0], [for r in data.sirsi_resources.prod_instances.items : r.monthly_cost if r.monthly_cost != null]))
}

output "prod_instances_unpriced" {
  value = length([for r in data.sirsi_resources.prod_instances.items : r if r.monthly_cost == null])
}

output "prod_instance_sizes" {
  value = { for r in data.sirsi_resources.prod_instances.items : r.id => r.size }
}
