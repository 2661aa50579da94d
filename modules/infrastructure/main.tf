# One environment: a KMS key, the API (api_type "http": an HTTP API here, its stage with access logs,
# CORS, throttling and a JWT authorizer; "rest": a REST API, rest.tf) and one `service` submodule per
# declared service (function, role, tables, and its routes on whichever API).
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  prefix     = "${var.name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # Access log formats, shared with the local gateway (access-log-formats.json).
  access_log_formats = merge(
    { for name, format in jsondecode(file("${path.module}/access-log-formats.json")) : name => format if name != "_comment" },
    { custom = var.access_log.custom_format },
  )
  http = var.api_type == "http"
  rest = var.api_type == "rest"
  # What the services' routes attach to, whichever the API type.
  api = local.http ? {
    id            = aws_apigatewayv2_api.this[0].id
    execution_arn = aws_apigatewayv2_api.this[0].execution_arn
    stage_name    = "$default"
    } : {
    id            = aws_api_gateway_rest_api.this[0].id
    execution_arn = aws_api_gateway_rest_api.this[0].execution_arn
    stage_name    = local.rest_stage_name
  }
}

# One customer-managed key per environment encrypts the tables, the log groups and the functions'
# environment variables.
resource "aws_kms_key" "this" {
  description             = "${local.prefix}: DynamoDB tables, CloudWatch logs, Lambda environment"
  enable_key_rotation     = true
  deletion_window_in_days = var.environment == "production" ? 30 : 7
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKeyThroughIAM"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch alarms publish to the environment's encrypted SNS topic (monitoring.tf).
        Sid       = "CloudWatchAlarmsPublishToThisEnvironmentsTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "CloudWatchLogsEncryptsThisEnvironmentsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/*/${local.prefix}-*"
          }
        }
      },
    ]
  })
  tags = var.tags
}

# The secret that signs pagination cursors. Terraform creates the container only: the value is
# generated and stored by `ci/deploy.py` (PutSecretValue) and read by the functions at init, so it is
# never in Terraform's state, a plan, or the functions' environment.
resource "aws_secretsmanager_secret" "cursor" {
  # checkov:skip=CKV2_AWS_57:Rotating the cursor secret only invalidates outstanding page cursors; rotate with `make rotate-secret ENV=...` rather than a rotation Lambda.
  name        = "${local.prefix}-cursor-secret"
  description = "${local.prefix}: signs pagination cursors (value set by ci/deploy.py, never by Terraform)"
  kms_key_id  = aws_kms_key.this.arn
  # Deleted at once: the value only signs page cursors (a new one is generated on the next deploy),
  # and a recovery window would block re-creating the environment under the same name for weeks.
  recovery_window_in_days = 0
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_apigatewayv2_api" "this" {
  count         = local.http ? 1 : 0
  name          = "${local.prefix}-api"
  protocol_type = "HTTP"
  description   = "${var.name} HTTP API (${var.environment})"

  dynamic "cors_configuration" {
    for_each = var.cors == null ? [] : [var.cors]
    content {
      allow_origins     = cors_configuration.value.allow_origins
      allow_methods     = cors_configuration.value.allow_methods
      allow_headers     = cors_configuration.value.allow_headers
      expose_headers    = cors_configuration.value.expose_headers
      allow_credentials = cors_configuration.value.allow_credentials
      max_age           = cors_configuration.value.max_age
    }
  }
  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count            = local.http && var.jwt_authorizer != null ? 1 : 0
  api_id           = aws_apigatewayv2_api.this[0].id
  name             = "${local.prefix}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]
  jwt_configuration {
    issuer   = var.jwt_authorizer.issuer
    audience = var.jwt_authorizer.audience
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${local.prefix}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_subscription_filter" "access" {
  count           = var.access_log.subscription_destination_arn == null ? 0 : 1
  name            = "${local.prefix}-access-logs"
  log_group_name  = aws_cloudwatch_log_group.access.name
  filter_pattern  = ""
  destination_arn = var.access_log.subscription_destination_arn
  role_arn        = var.access_log.subscription_role_arn
}

resource "aws_apigatewayv2_stage" "this" {
  count       = local.http ? 1 : 0
  api_id      = aws_apigatewayv2_api.this[0].id
  name        = "$default"
  auto_deploy = true

  # Detailed metrics: per-route metrics, which the route alarms and the dashboard read (CloudWatch
  # bills them as custom metrics: README "Operating it").
  default_route_settings {
    detailed_metrics_enabled = true
    throttling_burst_limit   = var.throttling.burst_limit
    throttling_rate_limit    = var.throttling.rate_limit
  }

  # Routes that declare their own throttle in service.json.
  dynamic "route_settings" {
    for_each = { for key, route in local.routes : key => route.throttle if route.throttle != null }
    content {
      route_key                = route_settings.key
      detailed_metrics_enabled = true
      throttling_burst_limit   = route_settings.value.burstLimit
      throttling_rate_limit    = route_settings.value.rateLimit
    }
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = local.access_log_formats[var.access_log.format]
  }
  tags = var.tags

  # Route settings name routes that the services create.
  depends_on = [module.service]
}

# Before api_type, the HTTP API's resources had no index.
moved {
  from = aws_apigatewayv2_api.this
  to   = aws_apigatewayv2_api.this[0]
}

moved {
  from = aws_apigatewayv2_stage.this
  to   = aws_apigatewayv2_stage.this[0]
}

locals {
  routes = merge([for _, service in var.services : service.routes]...)
}

module "service" {
  source   = "./modules/service"
  for_each = var.services

  name        = each.key
  prefix      = local.prefix
  declaration = each.value
  release     = var.releases[each.key]

  api_type          = var.api_type
  api_id            = local.api.id
  api_execution_arn = local.api.execution_arn
  stage_name        = local.api.stage_name
  authorizer_id     = local.http ? try(aws_apigatewayv2_authorizer.jwt[0].id, null) : try(aws_api_gateway_authorizer.jwt[0].id, null)
  rest_resource_ids = local.rest_resource_ids
  rest_validator_id = try(aws_api_gateway_request_validator.parameters[0].id, null)

  kms_key_arn          = aws_kms_key.this.arn
  log_retention_days   = var.log_retention_days
  deletion_protection  = var.deletion_protection
  reserved_concurrency = coalesce(each.value.function.reservedConcurrency, var.reserved_concurrency)
  permissions_boundary = var.permissions_boundary
  secret_arns          = [aws_secretsmanager_secret.cursor.arn]
  network              = local.function_network
  environment = merge(each.value.function.environment, {
    CURSOR_SECRET_ARN      = aws_secretsmanager_secret.cursor.arn
    DEPLOYMENT_ENVIRONMENT = var.environment
    # Who may call which route, checked again in the function before any handler (RouteAccess).
    ROUTE_ACCESS = jsonencode({ for key, route in each.value.routes : key => route.authorization == "NONE" ? null : route.scopes })
  }, each.value.function.metrics ? { METRICS_NAMESPACE = local.metrics_namespace, METRICS_SERVICE = each.key } : {})
  tags = var.tags
}
