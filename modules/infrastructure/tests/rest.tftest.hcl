# api_type = "rest", with a mock AWS provider: the REST API built from the repository's own
# service.json files (resource tree, methods, integrations, per-route permissions), the Lambda
# authorizer, the stage, WAF, usage plans, and what a REST API cannot express.
mock_provider "aws" {
  source = "./tests/mocks"
}


variables {
  name        = "swiftapi"
  environment = "staging"
  api_type    = "rest"
  services = {
    users = jsondecode(file("../../services/users/service.json"))
    items = jsondecode(file("../../services/items/service.json"))
  }
  releases = {
    users      = { s3_bucket = "artifacts", s3_key = "users/aa.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    items      = { s3_bucket = "artifacts", s3_key = "items/bb.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    authorizer = { s3_bucket = "artifacts", s3_key = "authorizer/cc.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  }
  permissions_boundary = "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary"
  jwt_authorizer       = { issuer = "https://auth.example.com/", audience = ["swiftapi", "swiftapi-web"] }
}

run "the_resource_tree_and_methods_match_service_json" {
  command = apply

  assert {
    condition     = length(aws_apigatewayv2_api.this) == 0 && length(aws_apigatewayv2_stage.this) == 0 && alltrue([for name in ["users", "items"] : length(module.service[name].routes) == 0])
    error_message = "api_type = \"rest\" creates no HTTP API."
  }
  assert {
    condition     = toset(keys(aws_api_gateway_resource.level1)) == toset(["/users", "/items"]) && toset(keys(aws_api_gateway_resource.level2)) == toset(["/users/{id}", "/items/{id}", "/items/export"]) && length(aws_api_gateway_resource.level3) == 0
    error_message = "One resource per declared path prefix."
  }
  assert {
    condition     = aws_api_gateway_resource.level2["/users/{id}"].path_part == "{id}" && aws_api_gateway_resource.level2["/users/{id}"].parent_id == aws_api_gateway_resource.level1["/users"].id && aws_api_gateway_resource.level1["/users"].parent_id == "root0"
    error_message = "Each resource hangs under its parent path."
  }
  assert {
    condition     = alltrue([for name in ["users", "items"] : toset(keys(module.service[name].rest_methods)) == toset(keys(var.services[name].routes))])
    error_message = "One method per declared route."
  }
  assert {
    condition = alltrue([for name in ["users", "items"] : alltrue([for key, method in module.service[name].rest_methods :
      method.http_method == split(" ", key)[0] && method.resource_id == local.rest_resource_ids[split(" ", key)[1]] &&
      method.authorization == "CUSTOM" && method.authorizer_id == aws_api_gateway_authorizer.jwt[0].id && !method.api_key_required &&
      method.request_validator_id == aws_api_gateway_request_validator.parameters[0].id
    ])])
    error_message = "Each method is on its path's resource, behind the Lambda authorizer (every route declares JWT)."
  }
  assert {
    condition     = module.service["users"].rest_methods["GET /users/{id}"].request_parameters == tomap({ "method.request.path.id" = true }) && length(module.service["users"].rest_methods["GET /users"].request_parameters) == 0
    error_message = "Path parameters are declared on the method."
  }
  assert {
    condition = alltrue([for name in ["users", "items"] : alltrue([for key, integration in module.service[name].rest_integrations :
    integration.type == "AWS_PROXY" && integration.integration_http_method == "POST" && integration.uri == module.service[name].invoke_arn && integration.timeout_milliseconds == 30000])])
    error_message = "Lambda proxy integrations (payload 1.0) to the route's own function."
  }
}

run "each_route_may_invoke_only_its_function_for_that_route" {
  command = apply

  assert {
    condition = toset(values(module.service["users"].route_source_arns)) == toset([
      "arn:aws:execute-api:eu-west-1:123456789012:rest123/staging/POST/users",
      "arn:aws:execute-api:eu-west-1:123456789012:rest123/staging/GET/users",
      "arn:aws:execute-api:eu-west-1:123456789012:rest123/staging/GET/users/*",
      "arn:aws:execute-api:eu-west-1:123456789012:rest123/staging/PUT/users/*",
      "arn:aws:execute-api:eu-west-1:123456789012:rest123/staging/PATCH/users/*",
      "arn:aws:execute-api:eu-west-1:123456789012:rest123/staging/DELETE/users/*",
    ])
    error_message = "One permission per route: the stage, the method and the path, never /*/*."
  }
  assert {
    condition     = aws_lambda_permission.authorizer[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:rest123/authorizers/${aws_api_gateway_authorizer.jwt[0].id}" && aws_lambda_permission.authorizer[0].function_name == module.authorizer[0].function_name
    error_message = "Only this API's authorizer may invoke the authorizer function."
  }
}

run "jwt_routes_go_through_the_swift_authorizer" {
  command = apply

  assert {
    condition     = aws_api_gateway_authorizer.jwt[0].type == "REQUEST" && aws_api_gateway_authorizer.jwt[0].authorizer_uri == module.authorizer[0].invoke_arn && aws_api_gateway_authorizer.jwt[0].authorizer_result_ttl_in_seconds == 60
    error_message = "A REQUEST authorizer on the authorizer function, results cached for the default 60 s (a cached Allow outlives exp by at most that)."
  }
  assert {
    condition     = aws_api_gateway_authorizer.jwt[0].identity_source == "method.request.header.Authorization,context.httpMethod,context.resourceId"
    error_message = "The cache key holds the token and the route, so a cached policy never answers for another route."
  }
  assert {
    condition = module.authorizer[0].environment["JWT_ISSUER"] == "https://auth.example.com/" && module.authorizer[0].environment["JWT_AUDIENCE"] == "swiftapi,swiftapi-web" && module.authorizer[0].environment["ROUTE_SCOPES"] == jsonencode(merge(
      { for key, route in var.services.users.routes : key => route.scopes },
    { for key, route in var.services.items.routes : key => route.scopes }))
    error_message = "The authorizer verifies the environment's issuer and audiences, and each route's scopes from service.json."
  }
  assert {
    condition     = module.authorizer[0].environment["JWKS_URL"] == ""
    error_message = "Without jwt_authorizer.jwks_url the authorizer finds the keys through the issuer's OpenID discovery document."
  }
  assert {
    condition     = module.authorizer[0].function_name == "swiftapi-staging-authorizer" && module.authorizer[0].role_permissions_boundary == var.permissions_boundary && module.authorizer[0].function.runtime == "provided.al2023"
    error_message = "The authorizer is a provided.al2023 function whose role carries the boundary."
  }
  assert {
    condition     = length([for s in jsondecode(module.authorizer[0].role_policy).Statement : s if contains(["OwnTablesOnly", "OwnSecretsOnly"], s.Sid)]) == 0
    error_message = "The authorizer reaches no table and no secret."
  }
}

run "the_stage_logs_traces_and_throttles" {
  command = apply
  variables {
    throttling = { burst_limit = 100, rate_limit = 50 }
  }

  assert {
    condition     = aws_api_gateway_stage.this[0].stage_name == "staging" && aws_api_gateway_stage.this[0].xray_tracing_enabled && aws_api_gateway_stage.this[0].deployment_id == aws_api_gateway_deployment.this[0].id
    error_message = "One stage named after the environment, traced with X-Ray, on the current deployment."
  }
  assert {
    condition     = strcontains(aws_api_gateway_stage.this[0].access_log_settings[0].format, "\"routeKey\":\"$context.httpMethod $context.resourcePath\"") && !strcontains(aws_api_gateway_stage.this[0].access_log_settings[0].format, "$context.routeKey") && strcontains(aws_api_gateway_stage.this[0].access_log_settings[0].format, "\"principal\":\"$context.authorizer.principalId\"") && !strcontains(aws_api_gateway_stage.this[0].access_log_settings[0].format, "claims") && aws_api_gateway_stage.this[0].access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access.arn
    error_message = "Access logs in the same JSON fields, with REST's $context variables."
  }
  assert {
    condition     = aws_api_gateway_method_settings.all[0].method_path == "*/*" && aws_api_gateway_method_settings.all[0].settings[0].throttling_burst_limit == 100 && aws_api_gateway_method_settings.all[0].settings[0].throttling_rate_limit == 50
    error_message = "Stage-wide throttling from the throttling input."
  }
  assert {
    condition     = output.api_endpoint == "https://rest123.execute-api.eu-west-1.amazonaws.com/staging" && output.function_names["authorizer"] == "swiftapi-staging-authorizer"
    error_message = "The outputs name the REST stage's URL and the authorizer function."
  }
}

run "route_throttles_waf_usage_plans_and_api_keys" {
  command = apply
  variables {
    services = {
      users = jsondecode(file("../../services/users/service.json"))
      items = jsondecode(file("../../services/items/service.json"))
      reports = {
        function = { memory = 256, timeout = 10, architecture = "x86_64" }
        routes = {
          "GET /reports/{id}/pages/{proxy+}" = { authorization = "NONE", public = true, apiKeyRequired = true, throttle = { burstLimit = 5, rateLimit = 2 } }
        }
      }
    }
    releases = {
      users      = { s3_bucket = "artifacts", s3_key = "users/aa.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
      items      = { s3_bucket = "artifacts", s3_key = "items/bb.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
      reports    = { s3_bucket = "artifacts", s3_key = "reports/dd.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
      authorizer = { s3_bucket = "artifacts", s3_key = "authorizer/cc.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    }
    rest = {
      waf_web_acl_arn        = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/swiftapi/0123"
      resource_policy        = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"execute-api:/*\"}]}"
      authorizer_ttl_seconds = 60
      usage_plans = {
        partners = { api_key_ids = ["key-a", "key-b"], throttle = { burst_limit = 10, rate_limit = 5 }, quota = { limit = 10000, period = "MONTH" } }
      }
    }
  }

  assert {
    condition     = toset(keys(aws_api_gateway_resource.level4)) == toset(["/reports/{id}/pages/{proxy+}"]) && aws_api_gateway_resource.level4["/reports/{id}/pages/{proxy+}"].path_part == "{proxy+}"
    error_message = "Deeper paths and {proxy+} get their resources."
  }
  assert {
    condition     = module.service["reports"].rest_methods["GET /reports/{id}/pages/{proxy+}"].api_key_required && module.service["reports"].rest_methods["GET /reports/{id}/pages/{proxy+}"].authorization == "NONE" && module.service["reports"].rest_methods["GET /reports/{id}/pages/{proxy+}"].request_parameters == tomap({ "method.request.path.id" = true, "method.request.path.proxy" = true })
    error_message = "apiKeyRequired reaches the method; {proxy+} is the proxy path parameter."
  }
  assert {
    condition     = aws_api_gateway_method_settings.route["GET /reports/{id}/pages/{proxy+}"].method_path == "reports/{id}/pages/{proxy+}/GET" && aws_api_gateway_method_settings.route["GET /reports/{id}/pages/{proxy+}"].settings[0].throttling_rate_limit == 2
    error_message = "A route's declared throttle becomes method settings on its path."
  }
  assert {
    condition     = aws_wafv2_web_acl_association.rest[0].resource_arn == aws_api_gateway_stage.this[0].arn && aws_wafv2_web_acl_association.rest[0].web_acl_arn == var.rest.waf_web_acl_arn
    error_message = "The WAF web ACL is associated with the stage."
  }
  assert {
    condition     = aws_api_gateway_rest_api_policy.this[0].policy == var.rest.resource_policy && aws_api_gateway_authorizer.jwt[0].authorizer_result_ttl_in_seconds == 60
    error_message = "The resource policy and the authorizer's TTL come from the inputs."
  }
  assert {
    condition     = one(aws_api_gateway_usage_plan.this["partners"].api_stages).stage == "staging" && one(aws_api_gateway_usage_plan.this["partners"].quota_settings).limit == 10000 && one(aws_api_gateway_usage_plan.this["partners"].throttle_settings).rate_limit == 5
    error_message = "The usage plan covers the stage with its throttle and quota."
  }
  assert {
    condition     = keys(output.usage_plan_keys) == [aws_api_gateway_usage_plan.this["partners"].id] && output.usage_plan_keys[aws_api_gateway_usage_plan.this["partners"].id] == tolist(["key-a", "key-b"])
    error_message = "Each plan's key ids go to ci/deploy.py, which attaches them: no key passes through Terraform's state."
  }
  assert {
    condition     = !contains(keys(jsondecode(module.authorizer[0].environment["ROUTE_SCOPES"])), "GET /reports/{id}/pages/{proxy+}")
    error_message = "Routes declaring NONE are not behind the authorizer."
  }
}

run "switching_back_to_http_builds_no_rest_api" {
  command = plan
  variables {
    api_type = "http"
  }

  assert {
    condition     = length(aws_api_gateway_rest_api.this) == 0 && length(module.authorizer) == 0 && length(aws_apigatewayv2_api.this) == 1
    error_message = "api_type = \"http\" builds the HTTP API only, without the authorizer function."
  }
}

run "rejects_the_default_route_on_rest" {
  command = plan
  variables {
    services = {
      users = merge(jsondecode(file("../../services/users/service.json")), { routes = { "$default" = { authorization = "JWT" } } })
      items = jsondecode(file("../../services/items/service.json"))
    }
  }
  expect_failures = [var.api_type]
}

run "rejects_two_names_for_one_path_segment" {
  command = plan
  variables {
    services = {
      users = jsondecode(file("../../services/users/service.json"))
      items = merge(jsondecode(file("../../services/items/service.json")), { routes = { "GET /users/{userId}/items" = { authorization = "JWT" } } })
    }
  }
  expect_failures = [var.api_type]
}

run "rejects_api_keys_on_an_http_api" {
  command = plan
  variables {
    api_type = "http"
    services = {
      users = jsondecode(file("../../services/users/service.json"))
      items = merge(jsondecode(file("../../services/items/service.json")), { routes = { "GET /items" = { authorization = "JWT", apiKeyRequired = true } } })
    }
  }
  expect_failures = [var.api_type]
}

run "rejects_api_keys_without_a_usage_plan" {
  command = plan
  variables {
    services = {
      users = jsondecode(file("../../services/users/service.json"))
      items = merge(jsondecode(file("../../services/items/service.json")), { routes = { "GET /items" = { authorization = "JWT", apiKeyRequired = true } } })
    }
  }
  expect_failures = [var.api_type]
}

run "rejects_cors_on_rest" {
  command = plan
  variables {
    cors = { allow_origins = ["https://app.example.com"], allow_methods = ["GET"], allow_headers = [], expose_headers = [], allow_credentials = false, max_age = 60 }
  }
  expect_failures = [var.api_type]
}

run "rejects_jwt_routes_without_an_authorizer_release" {
  command = plan
  variables {
    releases = {
      users = { s3_bucket = "artifacts", s3_key = "users/aa.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
      items = { s3_bucket = "artifacts", s3_key = "items/bb.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    }
  }
  expect_failures = [var.api_type]
}

run "rejects_a_waf_arn_that_is_not_a_regional_web_acl" {
  command = plan
  variables {
    rest = { waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1" }
  }
  expect_failures = [var.rest]
}

run "rejects_a_service_named_authorizer" {
  command = plan
  variables {
    services = {
      users      = jsondecode(file("../../services/users/service.json"))
      authorizer = jsondecode(file("../../services/items/service.json"))
    }
  }
  expect_failures = [var.services]
}

run "a_jwks_url_reaches_the_authorizer_over_https_only" {
  command = plan
  variables {
    jwt_authorizer = { issuer = "https://auth.example.com/", audience = ["swiftapi"], jwks_url = "https://keys.example.com/oauth2/v1/keys" }
  }
  assert {
    condition     = module.authorizer[0].environment["JWKS_URL"] == "https://keys.example.com/oauth2/v1/keys"
    error_message = "jwt_authorizer.jwks_url becomes the authorizer's JWKS_URL."
  }
}

run "rejects_a_jwks_url_in_the_clear" {
  command = plan
  variables {
    jwt_authorizer = { issuer = "https://auth.example.com/", audience = ["swiftapi"], jwks_url = "http://keys.example.com/keys" }
  }
  expect_failures = [var.jwt_authorizer]
}
