output "role_arn" {
  description = "The agent's role: the sirsi_cloud_account's role_arn."
  value       = aws_iam_role.agent.arn
}

output "instance_id" {
  description = "The agent's instance, when create_instance is true."
  value       = var.create_instance ? aws_instance.agent[0].id : null
}

output "ecs_service_name" {
  description = "The agent's ECS service, when create_ecs_service is true."
  value       = var.create_ecs_service ? aws_ecs_service.agent[0].name : null
}

output "task_role_arn" {
  description = "The ECS task's role (the agent's base identity), when create_ecs_service is true."
  value       = var.create_ecs_service ? aws_iam_role.task[0].arn : null
}
