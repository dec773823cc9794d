variable "name" {
  description = "Name of the agent's IAM role (and of the instance role, profile and instance)."
  type        = string
  default     = "sirsi-agent"
}

variable "external_id" {
  description = "The sirsi_cloud_account's external_id: the trust policy requires it."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.external_id) >= 2 && length(var.external_id) <= 1224
    error_message = "external_id must be 2 to 1224 characters (AWS's bounds for sts:ExternalId)."
  }
}

variable "acting" {
  description = "Attach the acting policy (for approve and auto policies); false grants read-only access (recommend mode)."
  type        = bool
  default     = true
}

variable "trusted_principal_arn" {
  description = "ARN of the agent's base identity (where it runs) when create_instance is false."
  type        = string
  default     = ""
}

variable "create_instance" {
  description = "Run agentd on an EC2 instance created here, as the systemd unit deploy/systemd/agentd-agent.service."
  type        = bool
  default     = false
}

variable "ami_id" {
  description = "AMI of the instance (a systemd Linux: Amazon Linux 2023, Debian, Ubuntu)."
  type        = string
  default     = ""
}

variable "instance_type" {
  description = "Instance type; the agent needs little (about 100 MB of memory for 10,000 resources)."
  type        = string
  default     = "t3.small"
}

variable "subnet_id" {
  description = "Subnet of the instance; it needs outbound HTTPS to AWS APIs and the control plane."
  type        = string
  default     = null
}

variable "security_group_ids" {
  description = "Security groups of the instance (outbound only is enough)."
  type        = list(string)
  default     = []
}

variable "agentd_url" {
  description = "URL of the agentd binary (a release archive's binary, linux)."
  type        = string
  default     = ""
}

variable "agentd_sha256" {
  description = "SHA-256 of the binary at agentd_url; the instance refuses another."
  type        = string
  default     = ""
}

variable "server" {
  description = "The control plane's agent endpoint, host:port."
  type        = string
  default     = ""
}

variable "server_ca_pem" {
  description = "PEM of the CA that signed the control plane's certificate."
  type        = string
  default     = ""
}

variable "region" {
  description = "AWS region the agent's clients start in."
  type        = string
  default     = "us-east-1"
}

variable "enroll_token" {
  description = "sirsi_enrollment_token.token: single use, read by the agent until it has enrolled."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tags" {
  description = "Tags for everything created."
  type        = map(string)
  default     = {}
}

variable "create_ecs_service" {
  description = "Run agentd as a one-task Fargate service created here (the image of `make image`), its data dir on EFS."
  type        = bool
  default     = false
}

variable "image" {
  description = "agentd's container image (built by `make image`, pushed to a registry the tasks can pull from)."
  type        = string
  default     = ""
}

variable "ecs_cluster_arn" {
  description = "ECS cluster of the service."
  type        = string
  default     = ""
}

variable "ecs_subnet_ids" {
  description = "Subnets of the task; they need outbound HTTPS to AWS APIs and the control plane, and the EFS mount targets."
  type        = list(string)
  default     = []
}

variable "ecs_assign_public_ip" {
  description = "Give the task a public IP (a public subnet without a NAT gateway)."
  type        = bool
  default     = false
}

variable "efs_file_system_id" {
  description = "EFS file system holding the agent's data dir (the module creates an access point owned by the image's user); it needs mount targets in ecs_subnet_ids."
  type        = string
  default     = ""
}

variable "ecs_cpu" {
  description = "Task CPU units."
  type        = number
  default     = 256
}

variable "ecs_memory" {
  description = "Task memory (MiB)."
  type        = number
  default     = 512
}

variable "ecs_cpu_architecture" {
  description = "X86_64 or ARM64, as the image was built."
  type        = string
  default     = "X86_64"
  validation {
    condition     = contains(["X86_64", "ARM64"], var.ecs_cpu_architecture)
    error_message = "ecs_cpu_architecture must be X86_64 or ARM64."
  }
}

variable "ecs_init_image" {
  description = "Image with a POSIX shell that writes the server CA into the task volume (agentd's image has none)."
  type        = string
  default     = "public.ecr.aws/docker/library/busybox:1.37.0"
}

variable "log_retention_days" {
  description = "Days the ECS task's CloudWatch logs are kept."
  type        = number
  default     = 30
}
