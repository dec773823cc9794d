# The ECS option: agentd as a one-task Fargate service. The task role is
# the agent's base identity and may only assume the agent's role (as the
# instance role does in the EC2 option); the data dir (identity, spool,
# journal) is on EFS through an access point owned by the image's user,
# so it survives task replacement; the enrollment token and external id
# are read from Secrets Manager by ECS, never stored in the task
# definition.

locals {
  ecs = var.create_ecs_service ? 1 : 0
  # The image's numeric non-root user (deploy/kit/image).
  agent_uid = 65532
}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  count              = local.ecs
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "task_assume_agent" {
  count  = local.ecs
  name   = "assume-sirsi-agent"
  role   = aws_iam_role.task[0].id
  policy = local.assume_agent_policy
}

# ECS itself: pull the image, write logs, read the agent's secret.
resource "aws_iam_role" "execution" {
  count              = local.ecs
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  count      = local.ecs
  role       = aws_iam_role.execution[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secret" {
  count = local.ecs
  name  = "read-sirsi-agent-secret"
  role  = aws_iam_role.execution[0].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = aws_secretsmanager_secret.agent[0].arn }]
  })
}

resource "aws_secretsmanager_secret" "agent" {
  count = local.ecs
  name  = "${var.name}-agent"
  tags  = var.tags
}

resource "aws_secretsmanager_secret_version" "agent" {
  count         = local.ecs
  secret_id     = aws_secretsmanager_secret.agent[0].id
  secret_string = jsonencode({ enroll_token = var.enroll_token, external_id = var.external_id })
}

resource "aws_efs_access_point" "data" {
  count          = local.ecs
  file_system_id = var.efs_file_system_id
  posix_user {
    uid = local.agent_uid
    gid = local.agent_uid
  }
  root_directory {
    path = "/${var.name}"
    creation_info {
      owner_uid   = local.agent_uid
      owner_gid   = local.agent_uid
      permissions = "0700"
    }
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "agent" {
  count             = local.ecs
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_task_definition" "agent" {
  count                    = local.ecs
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.ecs_cpu
  memory                   = var.ecs_memory
  task_role_arn            = aws_iam_role.task[0].arn
  execution_role_arn       = aws_iam_role.execution[0].arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.ecs_cpu_architecture
  }
  volume {
    name = "data"
    efs_volume_configuration {
      file_system_id     = var.efs_file_system_id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.data[0].id
        iam             = "DISABLED"
      }
    }
  }
  # agentd reads the control plane's CA from a file; the image has no
  # shell, so a short-lived container writes it into a task volume.
  volume {
    name = "config"
  }
  container_definitions = jsonencode([
    {
      name        = "server-ca"
      image       = var.ecs_init_image
      essential   = false
      user        = "${local.agent_uid}:${local.agent_uid}"
      command     = ["sh", "-ec", "printf '%s' \"$SERVER_CA_PEM\" > /etc/agentd/server-ca.pem"]
      environment = [{ name = "SERVER_CA_PEM", value = var.server_ca_pem }]
      mountPoints = [{ sourceVolume = "config", containerPath = "/etc/agentd" }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.agent[0].name
          awslogs-region        = var.region
          awslogs-stream-prefix = "server-ca"
        }
      }
    },
    {
      name                   = "agent"
      image                  = var.image
      essential              = true
      command                = ["agent"]
      user                   = "${local.agent_uid}:${local.agent_uid}"
      readonlyRootFilesystem = true
      dependsOn              = [{ containerName = "server-ca", condition = "SUCCESS" }]
      environment = [
        { name = "SIRSI_AGENT_SERVER", value = var.server },
        { name = "SIRSI_CA_CERT_FILE", value = "/etc/agentd/server-ca.pem" },
        { name = "SIRSI_DATA_DIR", value = "/var/lib/agentd" },
        { name = "SIRSI_AWS_REGION", value = var.region },
        { name = "SIRSI_AWS_ASSUME_ROLE_ARN", value = aws_iam_role.agent.arn },
        { name = "SIRSI_LOG_FORMAT", value = "json" },
      ]
      secrets = [
        { name = "SIRSI_ENROLL_TOKEN", valueFrom = "${aws_secretsmanager_secret.agent[0].arn}:enroll_token::" },
        { name = "SIRSI_AWS_EXTERNAL_ID", valueFrom = "${aws_secretsmanager_secret.agent[0].arn}:external_id::" },
      ]
      mountPoints = [
        { sourceVolume = "data", containerPath = "/var/lib/agentd" },
        { sourceVolume = "config", containerPath = "/etc/agentd", readOnly = true },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.agent[0].name
          awslogs-region        = var.region
          awslogs-stream-prefix = "agent"
        }
      }
    },
  ])
  tags = var.tags
}

resource "aws_ecs_service" "agent" {
  count           = local.ecs
  name            = var.name
  cluster         = var.ecs_cluster_arn
  task_definition = aws_ecs_task_definition.agent[0].arn
  launch_type     = "FARGATE"
  desired_count   = 1
  # Never two agents on one data dir: the old task stops before the new
  # one starts.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  network_configuration {
    subnets          = var.ecs_subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.ecs_assign_public_ip
  }
  tags = var.tags
}
