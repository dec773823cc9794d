output "role_arn" {
  description = "The agent's role: the sirsi_cloud_account's role_arn."
  value       = aws_iam_role.agent.arn
}

output "instance_id" {
  description = "The agent's instance, when create_instance is true."
  value       = var.create_instance ? aws_instance.agent[0].id : null
}
