# `terraform test` with a mock AWS provider: no credentials, no network. The services are the
# repository's own declarations, so a route or table added to a service.json is covered here too.
mock_provider "aws" {
  source = "./tests/mocks"
}

override_resource {
  target = module.service["users"].aws_dynamodb_table.this["users"]
  values = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users" }
}

override_resource {
  target = module.service["items"].aws_dynamodb_table.this["items"]
  values = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items" }
}

variables {
  name        = "swiftapi"
  environment = "staging"
  services = {
    users = jsondecode(file("../../services/users/service.json"))
    items = jsondecode(file("../../services/items/service.json"))
  }
  releases = {
    users = { s3_bucket = "artifacts", s3_key = "users/aa.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    items = { s3_bucket = "artifacts", s3_key = "items/bb.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  }
  permissions_boundary = "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary"
  jwt_authorizer       = { issuer = "https://auth.example.com/", audience = ["swiftapi"] }
}

run "each_function_reaches_only_its_own_tables" {
  command = apply

  assert {
    condition = [for s in jsondecode(module.service["users"].role_policy).Statement : s.Resource if s.Sid == "OwnTablesOnly"][0] == [
      "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users",
      "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users/index/*",
    ]
    error_message = "The users function's DynamoDB access must name exactly the users table and its indexes."
  }
  assert {
    condition = [for s in jsondecode(module.service["items"].role_policy).Statement : s.Resource if s.Sid == "OwnTablesOnly"][0] == [
      "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items",
      "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items/index/*",
    ]
    error_message = "The items function's DynamoDB access must name exactly the items table and its indexes."
  }
  assert {
    condition = alltrue(flatten([for name in ["users", "items"] : [
      for s in jsondecode(module.service[name].role_policy).Statement : [
        for action in flatten([s.Action]) : !contains(["dynamodb:*", "dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable", "*"], action)
      ]
    ]]))
    error_message = "No function may Scan, manage tables or use wildcard actions."
  }
  assert {
    condition     = alltrue([for name in ["users", "items"] : [for s in jsondecode(module.service[name].role_policy).Statement : s.Resource if s.Sid == "OwnLogGroupOnly"][0] == "${module.service[name].log_group_arn}:*"])
    error_message = "A function writes only to its own log group."
  }
  # Whole documents, not one statement picked by Sid: an extra statement (another table, a
  # wildcard) fails here.
  assert {
    condition = alltrue([for name in ["users", "items"] : jsondecode(module.service[name].role_policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid    = "OwnTablesOnly"
          Effect = "Allow"
          Action = [
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
          ]
          Resource = [
            "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-${name}",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-${name}/index/*",
          ]
        },
        { Sid = "OwnSecretsOnly", Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = [aws_secretsmanager_secret.cursor.arn] },
        { Sid = "OwnLogGroupOnly", Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${module.service[name].log_group_arn}:*" },
        { Sid = "Tracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = "*" },
        {
          Sid       = "KeyThroughDynamoDBAndLambdaOnly"
          Effect    = "Allow"
          Action    = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
          Resource  = aws_kms_key.this.arn
          Condition = { StringEquals = { "kms:ViaService" = ["dynamodb.eu-west-1.amazonaws.com", "lambda.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"] } }
        },
      ]
    }])
    error_message = "Each function role's policy is exactly its tables, its secret, its log group, tracing and the key through AWS services: nothing more."
  }
  assert {
    condition = alltrue([for name in ["users", "items"] : jsondecode(module.service[name].role_trust_policy) == {
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole", Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } } }]
    }])
    error_message = "Only Lambda, for this account, assumes a function role: every statement of the trust policy."
  }
}

run "each_route_may_invoke_only_its_function_for_that_route" {
  command = apply

  assert {
    condition = toset(values(module.service["users"].route_source_arns)) == toset([
      "arn:aws:execute-api:eu-west-1:123456789012:api123/$default/POST/users",
      "arn:aws:execute-api:eu-west-1:123456789012:api123/$default/GET/users",
      "arn:aws:execute-api:eu-west-1:123456789012:api123/$default/GET/users/*",
      "arn:aws:execute-api:eu-west-1:123456789012:api123/$default/PUT/users/*",
      "arn:aws:execute-api:eu-west-1:123456789012:api123/$default/PATCH/users/*",
      "arn:aws:execute-api:eu-west-1:123456789012:api123/$default/DELETE/users/*",
    ])
    error_message = "The users function's permissions must be one per declared route, on the stage, method and path."
  }
  assert {
    condition     = alltrue([for name in ["users", "items"] : alltrue([for arn in values(module.service[name].route_source_arns) : !endswith(arn, "/*/*") && strcontains(arn, "/$default/")])])
    error_message = "No permission may be open to every stage and route (/*/*)."
  }
  assert {
    condition     = length(module.service["items"].route_source_arns) == length(var.services.items.routes)
    error_message = "Every items route gets its own permission."
  }
}

run "routes_follow_the_declarations" {
  command = apply

  assert {
    condition     = alltrue([for key, route in module.service["items"].routes : route.authorization_type == "JWT" && route.authorizer_id == aws_apigatewayv2_authorizer.jwt[0].id])
    error_message = "items routes declare JWT and must use the authorizer."
  }
  assert {
    condition     = module.service["items"].routes["POST /items"].authorization_scopes == toset(["items.write"]) && module.service["items"].routes["GET /items"].authorization_scopes == toset(["items.read", "items.admin"])
    error_message = "Route scopes come from service.json."
  }
  assert {
    condition     = alltrue([for key, route in module.service["users"].routes : route.authorization_type == "JWT" && route.authorizer_id != null]) && module.service["users"].routes["GET /users"].authorization_scopes == toset(["users.admin"])
    error_message = "Every users route is behind the JWT authorizer; listing users takes users.admin."
  }
  assert {
    condition     = alltrue([for name in ["users", "items"] : alltrue([for i in values(module.service[name].integrations) : i.payload_format_version == "2.0" && i.timeout_milliseconds == 30000])])
    error_message = "Integrations use payload 2.0 and the declared (default 30 s) timeout."
  }
  assert {
    condition     = module.service["users"].function.runtime == "provided.al2023" && module.service["users"].function.architectures == tolist(["x86_64"]) && module.service["users"].function.tracing_config[0].mode == "Active"
    error_message = "Functions run provided.al2023 with the declared architecture and X-Ray tracing."
  }
}

run "production_is_protected" {
  command = apply
  variables {
    environment         = "production"
    deletion_protection = true
    log_retention_days  = 1096
  }

  assert {
    condition     = alltrue([for name in ["users", "items"] : alltrue([for t in values(module.service[name].tables) : t.deletion_protection_enabled && t.point_in_time_recovery[0].enabled && t.server_side_encryption[0].enabled && t.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn])])
    error_message = "Production tables have deletion protection, point-in-time recovery and KMS encryption."
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The production key rotates and has the longest deletion window."
  }
  assert {
    condition     = aws_cloudwatch_log_group.access.retention_in_days == 1096 && alltrue([for name in ["users", "items"] : module.service[name].log_group.retention_in_days == 1096 && module.service[name].log_group.kms_key_id == aws_kms_key.this.arn])
    error_message = "Log groups keep the environment's retention and are encrypted."
  }
}

run "access_logs_in_common_log_format" {
  command = plan
  variables {
    access_log = { format = "clf" }
  }
  assert {
    condition     = startswith(aws_apigatewayv2_stage.this[0].access_log_settings[0].format, "$context.identity.sourceIp - $context.authorizer.claims.sub [$context.requestTime]")
    error_message = "format = clf writes Common Log Format lines, the caller's sub as the user."
  }
  assert {
    condition     = !strcontains(aws_apigatewayv2_stage.this[0].access_log_settings[0].format, "authorization") && !strcontains(aws_apigatewayv2_stage.this[0].access_log_settings[0].format, "cookie")
    error_message = "Access logs never contain tokens or cookies."
  }
}

run "custom_domain_with_a_dns_validated_certificate" {
  command = plan
  variables {
    domain = { name = "api.example.com", zone_id = "Z123" }
  }
  assert {
    condition     = length(aws_acm_certificate.api) == 1 && aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].security_policy == "TLS_1_2"
    error_message = "A domain without a certificate ARN gets a DNS-validated certificate and TLS 1.2."
  }
  assert {
    condition     = length(aws_route53_record.api) == 2
    error_message = "The domain gets A and AAAA aliases."
  }
}

run "rejects_a_malformed_route_key" {
  command = plan
  variables {
    services = {
      users = merge(jsondecode(file("../../services/users/service.json")), { routes = { "GET users" = { authorization = "JWT" } } })
      items = jsondecode(file("../../services/items/service.json"))
    }
  }
  expect_failures = [var.services]
}

run "rejects_a_route_declared_by_two_services" {
  command = plan
  variables {
    services = {
      users = jsondecode(file("../../services/users/service.json"))
      items = merge(jsondecode(file("../../services/items/service.json")), { routes = { "GET /users" = { authorization = "JWT" } } })
    }
  }
  expect_failures = [var.services]
}

run "rejects_an_unknown_environment" {
  command = plan
  variables {
    environment = "prod"
  }
  expect_failures = [var.environment]
}

run "rejects_jwt_routes_without_an_authorizer" {
  command = plan
  variables {
    jwt_authorizer = null
  }
  expect_failures = [var.jwt_authorizer]
}

run "rejects_a_service_without_a_release" {
  command = plan
  variables {
    releases = {
      users = { s3_bucket = "artifacts", s3_key = "users/aa.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    }
  }
  expect_failures = [var.releases]
}

run "function_roles_carry_the_boundary_and_secrets_stay_out_of_terraform" {
  command = apply

  assert {
    condition     = alltrue([for name in ["users", "items"] : module.service[name].role_permissions_boundary == "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary"])
    error_message = "Every function role is created with the environment's permissions boundary."
  }
  assert {
    condition     = [for s in jsondecode(module.service["users"].role_policy).Statement : s.Resource if s.Sid == "OwnSecretsOnly"][0] == [aws_secretsmanager_secret.cursor.arn]
    error_message = "A function reads exactly the environment's cursor secret."
  }
  assert {
    condition     = alltrue([for name in ["users", "items"] : !contains(keys(module.service[name].environment), "CURSOR_SECRET") && module.service[name].environment["CURSOR_SECRET_ARN"] == aws_secretsmanager_secret.cursor.arn])
    error_message = "Functions get the secret's ARN, never its value."
  }
  assert {
    condition     = aws_secretsmanager_secret.cursor.kms_key_id == aws_kms_key.this.arn
    error_message = "The secret is encrypted with the environment's key."
  }
}

run "rejects_a_boundary_that_is_not_a_policy" {
  command = plan
  variables {
    permissions_boundary = "swiftapi-staging-function-boundary"
  }
  expect_failures = [var.permissions_boundary]
}

run "rejects_credentials_with_any_origin" {
  command = plan
  variables {
    cors = { allow_origins = ["*"], allow_credentials = true, allow_methods = ["GET"], allow_headers = [], expose_headers = [], max_age = 0 }
  }
  expect_failures = [var.cors]
}

run "tables_declare_local_indexes_and_streams" {
  command = apply
  variables {
    services = {
      users = jsondecode(file("../../services/users/service.json"))
      events = {
        function = { memory = 256, timeout = 10, architecture = "x86_64", environment = {} }
        routes   = { "GET /events" = { authorization = "JWT", scopes = ["events.read"] } }
        tables = {
          events = {
            partitionKey          = { name = "pk", type = "S" }
            sortKey               = { name = "sk", type = "S" }
            localSecondaryIndexes = [{ name = "byTime", sortKey = { name = "at", type = "N" }, projection = "KEYS_ONLY" }]
            stream                = "NEW_IMAGE"
          }
        }
      }
    }
    releases = {
      users  = { s3_bucket = "artifacts", s3_key = "users/aa.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
      events = { s3_bucket = "artifacts", s3_key = "events/cc.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    }
  }
  assert {
    condition     = [for index in module.service["events"].tables["events"].local_secondary_index : index.range_key] == ["at"]
    error_message = "A declared local secondary index becomes the table's, with its sort key."
  }
  assert {
    condition     = contains([for a in module.service["events"].tables["events"].attribute : "${a.name}:${a.type}"], "at:N")
    error_message = "The local index's sort key is an attribute definition."
  }
  assert {
    condition     = module.service["events"].tables["events"].stream_enabled && module.service["events"].tables["events"].stream_view_type == "NEW_IMAGE"
    error_message = "A declared stream is enabled with its view type."
  }
  assert {
    condition     = !module.service["users"].tables["users"].stream_enabled
    error_message = "Tables without a declared stream have none."
  }
}

run "no_network_by_default" {
  command = apply
  assert {
    condition     = length(aws_vpc.this) == 0 && alltrue([for name in ["users", "items"] : length(module.service[name].vpc_config) == 0])
    error_message = "network.mode = none: no VPC, functions on Lambda's own network."
  }
}

run "an_existing_network_is_used_as_given" {
  command = apply
  variables {
    network = { mode = "existing", subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-given"] }
  }
  assert {
    condition     = length(aws_vpc.this) == 0 && alltrue([for name in ["users", "items"] : toset(module.service[name].vpc_config[0].subnet_ids) == toset(["subnet-a", "subnet-b"]) && toset(module.service[name].vpc_config[0].security_group_ids) == toset(["sg-given"])])
    error_message = "Existing mode puts every function in the given subnets with the given groups, and creates no network."
  }

  assert {
    condition     = [for s in jsondecode(module.service["users"].role_policy).Statement : s.Resource if s.Sid == "NetworkInterfacesInItsSubnets"][0] == ["arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-a", "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-b", "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-given", "arn:aws:ec2:eu-west-1:123456789012:network-interface/*"]
    error_message = "The role creates network interfaces only in its subnets, with its groups."
  }
}

run "a_created_network_spreads_over_zones_and_reaches_only_dynamodb_and_the_endpoints" {
  command = apply
  variables {
    network = { mode = "create", availability_zones = 3 }
  }
  assert {
    condition     = length(aws_subnet.private) == 3 && length(distinct(aws_subnet.private[*].availability_zone)) == 3 && alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "One private subnet per availability zone, none with public addresses."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_internet_gateway.this) == 0 && length(aws_subnet.public) == 0
    error_message = "No NAT gateway, internet gateway or public subnet unless nat = true."
  }
  assert {
    condition     = jsondecode(aws_vpc_endpoint.dynamodb[0].policy).Statement[0].Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users/index/*", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items/index/*"] || jsondecode(aws_vpc_endpoint.dynamodb[0].policy).Statement[0].Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-items/index/*", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-users/index/*"]
    error_message = "The DynamoDB endpoint admits this environment's tables and indexes only."
  }
  assert {
    condition     = aws_vpc_endpoint.dynamodb[0].vpc_endpoint_type == "Gateway" && keys(aws_vpc_endpoint.interface) == ["secretsmanager"]
    error_message = "DynamoDB through a gateway endpoint, Secrets Manager through an interface endpoint, nothing else."
  }
  assert {
    condition = alltrue([for name in ["users", "items"] : length(module.service[name].security_group.egress) == 2 && alltrue([for rule in module.service[name].security_group.egress :
      rule.from_port == 443 && rule.to_port == 443 && rule.protocol == "tcp" && try(length(rule.cidr_blocks), 0) == 0 && (try(toset(rule.prefix_list_ids), toset([])) == toset(["pl-dynamodb"]) || try(toset(rule.security_groups), toset([])) == toset(["sg-1"]))
    ]) && length(module.service[name].security_group.ingress) == 0])
    error_message = "Each service's group: egress 443 to DynamoDB's prefix list and to the endpoints' group, nothing else, no ingress."
  }
  assert {
    condition     = length(aws_default_security_group.this[0].ingress) == 0 && length(aws_default_security_group.this[0].egress) == 0
    error_message = "The VPC's default security group allows nothing."
  }
  assert {
    condition     = aws_flow_log.this[0].traffic_type == "ALL" && aws_cloudwatch_log_group.flow[0].kms_key_id == aws_kms_key.this.arn && aws_iam_role.flow_logs[0].permissions_boundary != null
    error_message = "Flow logs of all traffic to a log group encrypted with the environment's key, written by a bounded role."
  }
}

run "nat_only_when_asked_one_shared_outside_production" {
  command = apply
  variables {
    network = { mode = "create", nat = true }
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_to_nat) == 2 && length(aws_subnet.public) == 2
    error_message = "Staging with nat = true: one NAT gateway shared by both private subnets."
  }
}

run "nat_per_zone_in_production" {
  command = apply
  variables {
    environment         = "production"
    deletion_protection = true
    network             = { mode = "create", nat = true, availability_zones = 3 }
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3
    error_message = "Production with nat = true: one NAT gateway per availability zone."
  }
}

run "rejects_an_existing_network_without_subnets" {
  command = plan
  variables {
    network = { mode = "existing" }
  }
  expect_failures = [var.network]
}

run "rejects_a_route_without_authorization" {
  command = plan
  variables {
    services = {
      users = merge(jsondecode(file("../../services/users/service.json")), { routes = { "GET /users" = { scopes = ["users.admin"] } } })
      items = jsondecode(file("../../services/items/service.json"))
    }
  }
  expect_failures = [var.services]
}

run "rejects_authorization_none_on_a_route_not_marked_public" {
  command = plan
  variables {
    services = {
      users = merge(jsondecode(file("../../services/users/service.json")), { routes = { "GET /users" = { authorization = "NONE" } } })
      items = jsondecode(file("../../services/items/service.json"))
    }
  }
  expect_failures = [var.services]
}

run "each_function_is_told_who_may_call_its_routes" {
  command = plan
  variables {
    services = {
      users = merge(jsondecode(file("../../services/users/service.json")), { routes = merge(jsondecode(file("../../services/users/service.json")).routes, {
        "GET /health" = { authorization = "NONE", public = true }
      }) })
      items = jsondecode(file("../../services/items/service.json"))
    }
  }
  assert {
    condition = jsondecode(module.service["users"].environment["ROUTE_ACCESS"]) == merge(
      { for key, route in jsondecode(file("../../services/users/service.json")).routes : key => route.scopes },
    { "GET /health" = null })
    error_message = "ROUTE_ACCESS names every route of the function: its scopes, or null where the route is public."
  }
}
