output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "function_arn" {
  value = aws_lambda_function.this.arn
}

output "invoke_arn" {
  value = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  value = aws_iam_role.function.name
}

output "table_names" {
  description = "Deployed table name per declared table name."
  value       = { for declared, table in aws_dynamodb_table.this : declared => table.name }
}

output "log_group_name" {
  value = aws_cloudwatch_log_group.function.name
}

output "route_source_arns" {
  description = "The execute-api ARN each route's permission allows."
  value       = local.route_source_arns
}

output "role_policy" {
  description = "The function role's inline policy (JSON)."
  value       = aws_iam_role_policy.function.policy
}

output "role_trust_policy" {
  description = "The function role's trust policy (JSON)."
  value       = aws_iam_role.function.assume_role_policy
}

output "log_group_arn" {
  value = aws_cloudwatch_log_group.function.arn
}

# The resources themselves, for the module's tests.
output "function" {
  value     = aws_lambda_function.this
  sensitive = true
}

output "routes" {
  value = aws_apigatewayv2_route.this
}

output "integrations" {
  value = aws_apigatewayv2_integration.route
}

output "rest_methods" {
  description = "REST API only: the routes' methods."
  value       = aws_api_gateway_method.route
}

output "rest_integrations" {
  description = "REST API only: the routes' Lambda proxy integrations."
  value       = aws_api_gateway_integration.route
}

output "tables" {
  value = aws_dynamodb_table.this
}

output "log_group" {
  value = aws_cloudwatch_log_group.function
}

output "role_permissions_boundary" {
  value = aws_iam_role.function.permissions_boundary
}

output "environment" {
  description = "The function's environment variables (names and non-secret values only)."
  value       = aws_lambda_function.this.environment[0].variables
}

output "table_arns" {
  value = [for table in aws_dynamodb_table.this : table.arn]
}

output "security_group_ids" {
  description = "The security groups the function's network interfaces use (none outside a VPC)."
  value       = local.security_group_ids
}

output "vpc_config" {
  value = aws_lambda_function.this.vpc_config
}

output "security_group" {
  description = "The function's own security group in a created VPC (for the module's tests)."
  value       = one(aws_security_group.function[*])
}
