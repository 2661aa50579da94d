output "api_endpoint" {
  description = "The API's invoke URL: the HTTP API's $default stage, or the REST API's stage (named after the environment)."
  value       = local.http ? aws_apigatewayv2_stage.this[0].invoke_url : aws_api_gateway_stage.this[0].invoke_url
}

output "api_id" {
  description = "The API's id (HTTP or REST)."
  value       = local.api.id
}

output "api_type" {
  description = "\"http\" (HTTP API) or \"rest\" (REST API with the Lambda authorizer)."
  value       = var.api_type
}

output "domain" {
  description = "The custom domain's URL, or null without a custom domain."
  value       = local.domain_enabled ? "https://${var.domain.name}" : null
}

output "function_names" {
  description = "Lambda function name per service (and the REST API's authorizer, as \"authorizer\")."
  value = merge({ for name, service in module.service : name => service.function_name },
  local.authorizer_deployed ? { authorizer = module.authorizer[0].function_name } : {})
}

output "table_names" {
  description = "DynamoDB table names per service, keyed by the name declared in service.json."
  value       = { for name, service in module.service : name => service.table_names }
}

output "log_group_names" {
  description = "Log groups: one per function, and the stage's access log."
  value = merge(
    { for name, service in module.service : name => service.log_group_name },
    { access = aws_cloudwatch_log_group.access.name },
    local.authorizer_deployed ? { authorizer = module.authorizer[0].log_group_name } : {},
  )
}

output "kms_key_arn" {
  description = "The environment's KMS key (tables, logs, function environments)."
  value       = aws_kms_key.this.arn
}

output "secret_arns" {
  description = "Secrets Manager secrets the functions read at init (values set by ci/deploy.py), by name."
  value       = { cursor = aws_secretsmanager_secret.cursor.arn }
}

output "network" {
  description = "The VPC, its private subnets and endpoints (network.mode = \"create\"), or null."
  value = local.create_network ? {
    vpc_id             = aws_vpc.this[0].id
    private_subnet_ids = aws_subnet.private[*].id
    dynamodb_endpoint  = aws_vpc_endpoint.dynamodb[0].id
    nat_gateways       = length(aws_nat_gateway.this)
  } : null
}

output "usage_plan_keys" {
  description = "REST only: the API key ids each usage plan should hold, by usage plan id (ci/deploy.py attaches them; no key value passes through Terraform)."
  value       = { for name, plan in aws_api_gateway_usage_plan.this : plan.id => var.rest.usage_plans[name].api_key_ids }
}

output "monitoring" {
  description = "The alarms' SNS topic, the dashboard, each service's composite alarm and its alarms, and the runtime's metrics namespace (make info, make alarms)."
  value = {
    topic_arn         = aws_sns_topic.alarms.arn
    dashboard         = aws_cloudwatch_dashboard.this.dashboard_name
    metrics_namespace = local.metrics_namespace
    services = { for name, _ in local.monitored_functions : name => {
      unhealthy = aws_cloudwatch_composite_alarm.service[name].alarm_name
      alarms    = sort([for key, alarm in local.alarms : aws_cloudwatch_metric_alarm.this[key].alarm_name if alarm.service == name])
    } }
  }
}

output "buffered_streamed_routes" {
  description = "Routes whose handlers stream (\"streamed\": true in service.json), served buffered by this API: each answer is gathered by the function, up to 4 MB (README, \"Response streaming\")."
  value       = sort([for key, route in local.routes : key if route.streamed])
}
