# The size the optimizer recommends for the instance tagged Name = "web",
# found by its tags so that the data source does not depend on the
# resource it sizes.
data "sirsi_recommended_size" "web" {
  resource_type = "aws_ec2_instance"
  tags          = { Name = "web" }
  current       = "m5.2xlarge"
}

# Terraform, not the agent, carries out the change: the plan shows it for
# review, and the next apply keeps it instead of resizing back.
resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = data.sirsi_recommended_size.web.size
  tags          = { Name = "web" }
}

output "web_sizing" {
  value = "${data.sirsi_recommended_size.web.size}: ${data.sirsi_recommended_size.web.reason}"
}
