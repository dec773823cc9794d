# The peer: N time_static resources of hashicorp/time, a provider on the
# same terraform-plugin-framework and terraform-plugin-go versions as
# sirsi whose Read does no network call (bench-provider.sh builds it from
# the Go module proxy and installs it through dev_overrides). The triggers
# hold the policies' scalar settings, so the state is of a similar size.
terraform {
  required_providers {
    time = {
      source = "hashicorp/time"
    }
  }
}

variable "n" {
  type    = number
  default = 500
}

resource "time_static" "bench" {
  count = var.n
  triggers = {
    name             = "bench-${count.index}"
    description      = "benchmark policy ${count.index}"
    mode             = "approve"
    resource_types   = "aws_ec2_instance,aws_ebs_volume"
    regions          = "us-east-1,eu-west-1"
    team             = "t${count.index % 10}"
    statistic        = "p95"
    lookback_days    = "14"
    headroom_percent = "20"
    schedule         = "0 2 * * 6"
    timezone         = "Europe/Berlin"
  }
}
