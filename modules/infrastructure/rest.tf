# api_type = "rest": a REST API built from the same service.json routes. The resource tree comes
# from the declared paths, level by level (a resource names its parent, so one block per depth);
# each service's module adds its methods and Lambda proxy integrations; JWT routes go through the
# project's Lambda REQUEST authorizer (shared/Sources/RESTAuthorizer). A deployment is re-created
# when the routes change, before the old one goes, and the stage (named after the environment)
# carries access logs, X-Ray, throttling, an optional WAF web ACL and usage plans.
locals {
  rest_stage_name = var.environment
  rest_route_keys = local.rest ? [for key in keys(local.routes) : key if key != "$default"] : []
  # Every prefix of every declared path: "/users/{id}" gives "/users" and "/users/{id}".
  rest_paths = distinct(flatten([for key in local.rest_route_keys : [
    for depth in range(1, length(split("/", split(" ", key)[1]))) :
    join("/", slice(split("/", split(" ", key)[1]), 0, depth + 1))
  ] if split(" ", key)[1] != "/"]))
  rest_levels = [for depth in range(1, 7) : {
    for path in local.rest_paths : path => {
      part   = split("/", path)[depth]
      parent = depth == 1 ? "/" : join("/", slice(split("/", path), 0, depth))
    } if length(split("/", path)) == depth + 1
  }]
  rest_resource_ids = local.rest ? merge(
    { "/" = aws_api_gateway_rest_api.this[0].root_resource_id },
    { for path, resource in aws_api_gateway_resource.level1 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.level2 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.level3 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.level4 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.level5 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.level6 : path => resource.id },
  ) : {}

  jwt_routes          = { for key, route in local.routes : key => route if route.authorization == "JWT" }
  authorizer_deployed = local.rest && length(local.jwt_routes) > 0
  # The same access log fields; REST has no $context.routeKey, so the route is method and resource.
  # REST has no routeKey and no JWT authorizer claims: the method and resource, and the principal
  # the Lambda authorizer answered (the token's sub).
  rest_access_log_format = replace(replace(local.access_log_formats[var.access_log.format], "$context.routeKey", "$context.httpMethod $context.resourcePath"), "$context.authorizer.claims.sub", "$context.authorizer.principalId")
}

resource "aws_api_gateway_rest_api" "this" {
  # checkov:skip=CKV_AWS_237:The API is replaced only by changing api_type; a new one cannot take over the old one's invoke URL, so create-before-destroy would not keep it up.
  count                        = local.rest ? 1 : 0
  name                         = "${local.prefix}-api"
  description                  = "${var.name} REST API (${var.environment})"
  disable_execute_api_endpoint = false
  endpoint_configuration {
    types = [var.rest.endpoint_type]
  }
  tags = var.tags
}

resource "aws_api_gateway_rest_api_policy" "this" {
  count       = local.rest && var.rest.resource_policy != null ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  policy      = var.rest.resource_policy
}

resource "aws_api_gateway_resource" "level1" {
  for_each    = local.rest_levels[0]
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_rest_api.this[0].root_resource_id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level2" {
  for_each    = local.rest_levels[1]
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_resource.level1[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level3" {
  for_each    = local.rest_levels[2]
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_resource.level2[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level4" {
  for_each    = local.rest_levels[3]
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_resource.level3[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level5" {
  for_each    = local.rest_levels[4]
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_resource.level4[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level6" {
  for_each    = local.rest_levels[5]
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_resource.level5[each.value.parent].id
  path_part   = each.value.part
}

# The authorizer function: a function like the services' (own role under the boundary, own
# encrypted log group, X-Ray, no tables, no secrets), deployed and rolled back as "authorizer".
module "authorizer" {
  source = "./modules/service"
  count  = local.authorizer_deployed ? 1 : 0

  name = "authorizer"
  declaration = {
    function = merge(var.authorizer_function, { environment = {} })
    routes   = {}
    tables   = {}
  }
  release           = var.releases["authorizer"]
  prefix            = local.prefix
  api_type          = "rest"
  api_id            = aws_api_gateway_rest_api.this[0].id
  api_execution_arn = aws_api_gateway_rest_api.this[0].execution_arn
  stage_name        = local.rest_stage_name

  kms_key_arn          = aws_kms_key.this.arn
  log_retention_days   = var.log_retention_days
  deletion_protection  = var.deletion_protection
  reserved_concurrency = var.reserved_concurrency
  permissions_boundary = var.permissions_boundary
  network              = null # it reaches only the issuer's JWKS, over the internet
  environment = {
    JWT_ISSUER   = try(var.jwt_authorizer.issuer, "")
    JWT_AUDIENCE = join(",", try(var.jwt_authorizer.audience, []))
    # Empty: the function reads jwks_uri from the issuer's OpenID discovery document.
    JWKS_URL = try(var.jwt_authorizer.jwks_url, null) == null ? "" : var.jwt_authorizer.jwks_url
    # Which scopes open which route: the routes' declarations, as the authorizer reads them.
    ROUTE_SCOPES           = jsonencode({ for key, route in local.jwt_routes : key => route.scopes })
    DEPLOYMENT_ENVIRONMENT = var.environment
    METRICS_NAMESPACE      = local.metrics_namespace
    METRICS_SERVICE        = "authorizer"
  }
  tags = var.tags
}

resource "aws_api_gateway_authorizer" "jwt" {
  count       = local.authorizer_deployed ? 1 : 0
  name        = "${local.prefix}-jwt"
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  type        = "REQUEST"
  # The cache key: the token and the route (method and resource), so a cached policy only ever
  # answers for the route it was computed for.
  identity_source                  = "method.request.header.Authorization,context.httpMethod,context.resourceId"
  authorizer_uri                   = module.authorizer[0].invoke_arn
  authorizer_result_ttl_in_seconds = var.rest.authorizer_ttl_seconds
}

resource "aws_lambda_permission" "authorizer" {
  count         = local.authorizer_deployed ? 1 : 0
  statement_id  = "RestApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = module.authorizer[0].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this[0].execution_arn}/authorizers/${aws_api_gateway_authorizer.jwt[0].id}"
}

# API Gateway checks each method's declared request parameters (the path's {params}) before the
# function runs; bodies are validated by the services, which answer with JSON problem documents.
resource "aws_api_gateway_request_validator" "parameters" {
  count                       = local.rest ? 1 : 0
  name                        = "${local.prefix}-parameters"
  rest_api_id                 = aws_api_gateway_rest_api.this[0].id
  validate_request_parameters = true
  validate_request_body       = false
}

resource "aws_api_gateway_deployment" "this" {
  count       = local.rest ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  description = "${var.name} ${var.environment}"
  # A new deployment whenever what API Gateway serves changes: the routes (their methods and
  # integrations follow from them), the resources, the functions behind them, the authorizer, the
  # validator, the resource policy. Only what the configuration determines goes in (attributes read
  # back from the API may differ in form), and a code deploy changes none of it.
  triggers = {
    redeployment = sha256(jsonencode([
      local.routes,
      local.rest_resource_ids,
      { for name, service in module.service : name => service.invoke_arn },
      try(aws_api_gateway_authorizer.jwt[0].id, null),
      var.rest.authorizer_ttl_seconds,
      try(aws_api_gateway_request_validator.parameters[0].id, null),
      var.rest.resource_policy,
    ]))
  }
  lifecycle {
    create_before_destroy = true
  }
  depends_on = [module.service, aws_api_gateway_rest_api_policy.this]
}

resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_120:Responses are per caller (authorized, tenant-scoped); a stage cache would need per-caller cache keys on every method.
  # checkov:skip=CKV2_AWS_51:Callers are authenticated by bearer tokens (the authorizer), not client certificates.
  # checkov:skip=CKV2_AWS_29:The WAF web ACL is the environment's choice (rest.waf_web_acl_arn), associated below when given.
  # checkov:skip=CKV2_AWS_77:The web ACL (rest.waf_web_acl_arn) is the organisation's, managed outside this module; its rule groups are reviewed there.
  # checkov:skip=CKV2_AWS_4:Execution logging needs an account-wide API Gateway CloudWatch role; access logs (below) record every request.
  count                = local.rest ? 1 : 0
  rest_api_id          = aws_api_gateway_rest_api.this[0].id
  deployment_id        = aws_api_gateway_deployment.this[0].id
  stage_name           = local.rest_stage_name
  xray_tracing_enabled = true
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = local.rest_access_log_format
  }
  tags = var.tags
}

# Stage-wide throttling and metrics; routes declaring a "throttle" get their own.
resource "aws_api_gateway_method_settings" "all" {
  # checkov:skip=CKV_AWS_225:Responses are per caller (authorized, tenant-scoped); a response cache would serve one caller's data to another.
  count       = local.rest ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  stage_name  = aws_api_gateway_stage.this[0].stage_name
  method_path = "*/*"
  settings {
    metrics_enabled        = true
    throttling_burst_limit = var.throttling.burst_limit
    throttling_rate_limit  = var.throttling.rate_limit
  }
}

resource "aws_api_gateway_method_settings" "route" {
  # checkov:skip=CKV_AWS_225:Responses are per caller (authorized, tenant-scoped); a response cache would serve one caller's data to another.
  for_each    = local.rest ? { for key, route in local.routes : key => route.throttle if route.throttle != null && key != "$default" } : {}
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  stage_name  = aws_api_gateway_stage.this[0].stage_name
  # "users/{id}/GET": the resource path without its leading slash, then the method.
  method_path = "${trimprefix(split(" ", each.key)[1], "/")}/${split(" ", each.key)[0]}"
  settings {
    metrics_enabled        = true
    throttling_burst_limit = each.value.burstLimit
    throttling_rate_limit  = each.value.rateLimit
  }
}

resource "aws_wafv2_web_acl_association" "rest" {
  count        = local.rest && var.rest.waf_web_acl_arn != null ? 1 : 0
  resource_arn = aws_api_gateway_stage.this[0].arn
  web_acl_arn  = var.rest.waf_web_acl_arn
}

# Usage plans for the routes declaring "apiKeyRequired". Their keys are made outside Terraform and
# attached by ci/deploy.py after each apply (output usage_plan_keys): a Terraform-managed
# aws_api_gateway_usage_plan_key reads the key's value into the state.
resource "aws_api_gateway_usage_plan" "this" {
  for_each    = local.rest ? var.rest.usage_plans : {}
  name        = "${local.prefix}-${each.key}"
  description = "${var.name} ${var.environment}: ${each.key}"
  api_stages {
    api_id = aws_api_gateway_rest_api.this[0].id
    stage  = aws_api_gateway_stage.this[0].stage_name
  }
  dynamic "throttle_settings" {
    for_each = each.value.throttle == null ? [] : [each.value.throttle]
    content {
      burst_limit = throttle_settings.value.burst_limit
      rate_limit  = throttle_settings.value.rate_limit
    }
  }
  dynamic "quota_settings" {
    for_each = each.value.quota == null ? [] : [each.value.quota]
    content {
      limit  = quota_settings.value.limit
      period = quota_settings.value.period
    }
  }
  tags = var.tags
}
