# N optimization policies with typical nested settings. Endpoint, token and
# tenant come from the environment (SIRSI_*).
terraform {
  required_providers {
    sirsi = {
      source = "sirsinexus/sirsi"
    }
  }
}

variable "n" {
  type    = number
  default = 500
}

resource "sirsi_optimization_policy" "bench" {
  count          = var.n
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
