# The AWS side of a SirsiNexus agent: the role the agent assumes in the
# customer account (trusting only the agent's base identity, and only with
# the cloud account's external id), its policies, and optionally an EC2
# instance running agentd as a systemd unit, or a Fargate service running
# its container image (ecs.tf).
#
# The policy documents are the files `make generate` writes from the code's
# own lists of AWS calls (deploy/iam); this module reads them rather than
# keeping a copy, so it always grants what the agent of this commit calls.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

locals {
  iam_dir = "${path.module}/../../iam"
  # The base identity's only permission: assuming the agent's role.
  assume_agent_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = aws_iam_role.agent.arn }]
  })
  # The instance's or the ECS task's own role is the agent's base identity
  # when the module creates the instance or the service.
  trusted_principal = (var.create_instance ? aws_iam_role.instance[0].arn :
  var.create_ecs_service ? aws_iam_role.task[0].arn : var.trusted_principal_arn)
  trust_policy = replace(replace(file("${local.iam_dir}/agent-trust.json"),
    "arn:aws:iam::AGENT_ACCOUNT_ID:role/AGENT_BASE_ROLE", local.trusted_principal),
  "EXTERNAL_ID_OF_THE_SIRSI_CLOUD_ACCOUNT", var.external_id)
}

resource "aws_iam_role" "agent" {
  name               = var.name
  assume_role_policy = local.trust_policy
  tags               = var.tags
  lifecycle {
    precondition {
      condition     = !(var.create_instance && var.create_ecs_service)
      error_message = "create_instance and create_ecs_service are alternatives: one agent per cloud account."
    }
    precondition {
      condition     = var.create_instance || var.create_ecs_service || var.trusted_principal_arn != ""
      error_message = "trusted_principal_arn is required when the module creates neither the instance nor the ECS service."
    }
    precondition {
      condition     = !var.create_ecs_service || (var.image != "" && var.ecs_cluster_arn != "" && var.efs_file_system_id != "" && length(var.ecs_subnet_ids) > 0 && var.server != "" && var.server_ca_pem != "" && var.enroll_token != "")
      error_message = "create_ecs_service needs image, ecs_cluster_arn, efs_file_system_id, ecs_subnet_ids, server, server_ca_pem and enroll_token."
    }
  }
}

resource "aws_iam_role_policy" "read_only" {
  name   = "sirsi-agent-read-only"
  role   = aws_iam_role.agent.id
  policy = file("${local.iam_dir}/agent-read-only.json")
}

resource "aws_iam_role_policy" "acting" {
  count  = var.acting ? 1 : 0
  name   = "sirsi-agent-acting"
  role   = aws_iam_role.agent.id
  policy = file("${local.iam_dir}/agent-acting.json")
}

# The instance option: a role for the instance that may only assume the
# agent's role, an instance profile, and the instance.

data "aws_iam_policy_document" "ec2_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  count              = var.create_instance ? 1 : 0
  name               = "${var.name}-instance"
  assume_role_policy = data.aws_iam_policy_document.ec2_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "instance_assume_agent" {
  count  = var.create_instance ? 1 : 0
  name   = "assume-sirsi-agent"
  role   = aws_iam_role.instance[0].id
  policy = local.assume_agent_policy
}

resource "aws_iam_instance_profile" "agent" {
  count = var.create_instance ? 1 : 0
  name  = var.name
  role  = aws_iam_role.instance[0].name
  tags  = var.tags
}

resource "aws_instance" "agent" {
  count                  = var.create_instance ? 1 : 0
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = var.security_group_ids
  iam_instance_profile   = aws_iam_instance_profile.agent[0].name
  # IMDSv2 only.
  metadata_options {
    http_tokens = "required"
  }
  # The agent's data dir (identity, spool, journal) lives on the root
  # volume; keep it when the instance is replaced by snapshotting or use a
  # persistent volume.
  user_data = templatefile("${path.module}/user-data.sh.tftpl", {
    agentd_url    = var.agentd_url
    agentd_sha256 = var.agentd_sha256
    unit          = file("${path.module}/../../systemd/agentd-agent.service")
    config = templatefile("${path.module}/agent.hcl.tftpl", {
      server          = var.server
      region          = var.region
      assume_role_arn = aws_iam_role.agent.arn
      external_id     = var.external_id
    })
    server_ca_pem = var.server_ca_pem
    enroll_token  = var.enroll_token
  })
  user_data_replace_on_change = true
  tags                        = merge(var.tags, { Name = var.name, "sirsi:optimize" = "false" })
}
