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
