# What an m5.large web server in us-east-1 costs on demand, before it is
# created: from the price catalogue the SirsiNexus optimizer uses.
data "sirsi_price" "web" {
  kind   = "ec2_instance"
  size   = "m5.large"
  region = "us-east-1"
}

# A 200 GiB gp3 volume with 6000 IOPS and 250 MiB/s: the IOPS above 3000
# and the throughput above 125 MiB/s are billed on top of the storage.
data "sirsi_price" "data_volume" {
  kind       = "ebs_volume"
  size       = "gp3"
  region     = "us-east-1"
  size_gib   = 200
  iops       = 6000
  throughput = 250
}

output "web_server" {
  value = format("%s: %d vCPU, %g GiB, %.2f USD/month (prices of %s)",
    "m5.large", data.sirsi_price.web.vcpu, data.sirsi_price.web.memory_gib,
  data.sirsi_price.web.monthly_usd, data.sirsi_price.web.snapshot_date)
}

# Formatted to cents: Terraform 1.11 plans the raw sum of two fractional
# prices as a changed output on every run (the stored and the recomputed
# number differ in their last digits); 1.5 does not.
output "monthly_estimate_usd" {
  value = format("%.2f", data.sirsi_price.web.monthly_usd + data.sirsi_price.data_volume.monthly_usd)
}
