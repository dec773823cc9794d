# The baseline: N terraform_data resources (Terraform's built-in provider)
# holding the same settings as the policies.
variable "n" {
  type    = number
  default = 500
}

resource "terraform_data" "bench" {
  count = var.n
  input = {
    name           = "bench-${count.index}"
    description    = "benchmark policy ${count.index}"
    mode           = "approve"
    resource_types = ["aws_ec2_instance", "aws_ebs_volume"]
    selector = {
      regions      = ["us-east-1", "eu-west-1"]
      tags         = { team = "t${count.index % 10}" }
      exclude_tags = { keep = "*" }
    }
    rightsizing = {
      statistic        = "p95"
      lookback_days    = 14
      headroom_percent = 20
    }
    schedule = "0 2 * * 6"
    timezone = "Europe/Berlin"
  }
}
