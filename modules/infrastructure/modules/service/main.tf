# One service: its DynamoDB tables, its function with a role that reaches only those tables, and its
# routes, each integrated with the function and allowed to invoke it for that route alone.
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  function_name = "${var.prefix}-${var.name}"
  # The function finds its tables as TABLE_<DECLARED_NAME> (see ServiceKit/TableSetup.swift).
  table_environment = {
    for declared, table in aws_dynamodb_table.this :
    "TABLE_${upper(replace(declared, "-", "_"))}" => table.name
  }
  # A route's permission: execute-api ARN with the stage, the method (* for ANY) and the path with
  # every {param} and {proxy+} segment as *.
  route_source_arns = {
    for key, _ in var.declaration.routes : key => (key == "$default"
      ? "${var.api_execution_arn}/${var.stage_name}/$default"
      : "${var.api_execution_arn}/${var.stage_name}/${split(" ", key)[0] == "ANY" ? "*" : split(" ", key)[0]}${join("/", [for segment in split("/", split(" ", key)[1]) : can(regex("^\\{.*\\}$", segment)) ? "*" : segment])}"
    )
  }
}

locals {
  in_vpc      = var.network != null
  created_vpc = local.in_vpc ? var.network.created : false
  subnet_arns = local.in_vpc ? [for id in var.network.subnet_ids : "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:subnet/${id}"] : []
  # The function's own group in a created VPC; the given groups in an existing one.
  security_group_ids = local.in_vpc ? concat(var.network.security_group_ids, aws_security_group.function[*].id) : []
  security_group_arns = [for id in local.security_group_ids :
  "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:security-group/${id}"]
}

# In a created VPC: egress to DynamoDB's prefix list and to the interface endpoints on 443, nothing
# else; no ingress (Lambda's ENIs take no inbound connections).
resource "aws_security_group" "function" {
  # checkov:skip=CKV2_AWS_5:Attached to the function's vpc_config (local.security_group_ids); instances without a created VPC (the REST authorizer's) create none.
  count                  = local.created_vpc ? 1 : 0
  name                   = "${local.function_name}-function"
  description            = "${local.function_name}: DynamoDB and the VPC endpoints over HTTPS only"
  vpc_id                 = var.network.vpc_id
  revoke_rules_on_delete = true
  egress {
    description     = "DynamoDB through its gateway endpoint"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [var.network.dynamodb_prefix_list_id]
  }
  dynamic "egress" {
    for_each = var.network.endpoints_security_group_id == null ? [] : [var.network.endpoints_security_group_id]
    content {
      description     = "The interface endpoints (Secrets Manager)"
      from_port       = 443
      to_port         = 443
      protocol        = "tcp"
      security_groups = [egress.value]
    }
  }
  # Lambda releases a deleted function's network interfaces minutes later; the group waits.
  timeouts {
    delete = "40m"
  }
  tags = var.tags
}

resource "aws_dynamodb_table" "this" {
  for_each = var.declaration.tables

  name                        = "${var.prefix}-${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.partitionKey.name
  range_key                   = try(each.value.sortKey.name, null)
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    # Every key attribute of the table and its indexes, once.
    for_each = { for key in concat(
      [each.value.partitionKey],
      each.value.sortKey == null ? [] : [each.value.sortKey],
      flatten([for index in each.value.globalSecondaryIndexes : concat([index.partitionKey], index.sortKey == null ? [] : [index.sortKey])]),
      [for index in each.value.localSecondaryIndexes : index.sortKey],
    ) : key.name => key.type... }
    content {
      name = attribute.key
      type = attribute.value[0]
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.globalSecondaryIndexes
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.partitionKey.name
      range_key          = try(global_secondary_index.value.sortKey.name, null)
      projection_type    = global_secondary_index.value.projection
      non_key_attributes = global_secondary_index.value.projection == "INCLUDE" ? global_secondary_index.value.nonKeyAttributes : null
    }
  }

  dynamic "local_secondary_index" {
    for_each = each.value.localSecondaryIndexes
    content {
      name               = local_secondary_index.value.name
      range_key          = local_secondary_index.value.sortKey.name
      projection_type    = local_secondary_index.value.projection
      non_key_attributes = local_secondary_index.value.projection == "INCLUDE" ? local_secondary_index.value.nonKeyAttributes : null
    }
  }

  stream_enabled   = each.value.stream != null
  stream_view_type = each.value.stream

  dynamic "ttl" {
    for_each = each.value.ttlAttribute == null ? [] : [each.value.ttlAttribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "function" {
  name                 = "${local.function_name}-function"
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

# Least privilege: item reads and writes on this service's own tables and their indexes (no Scan,
# no table management), its own log group, its secrets, X-Ray, and the key through DynamoDB, Lambda and
# Secrets Manager only. The boundary (environments/bootstrap) caps whatever this policy says.
resource "aws_iam_role_policy" "function" {
  name = "${local.function_name}-access"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      length(aws_dynamodb_table.this) == 0 ? [] : [{
        Sid    = "OwnTablesOnly"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
          "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
        ]
        Resource = flatten([for table in aws_dynamodb_table.this : [table.arn, "${table.arn}/index/*"]])
      }],
      length(var.secret_arns) == 0 ? [] : [{
        Sid      = "OwnSecretsOnly"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = var.secret_arns
      }],
      # What Lambda needs to attach the function to its subnets (Lambda developer guide, "Giving
      # Lambda functions access to resources in an Amazon VPC"): interfaces only in its subnets,
      # with its groups; describing them cannot be scoped.
      !local.in_vpc ? [] : [{
        Sid      = "NetworkInterfacesInItsSubnets"
        Effect   = "Allow"
        Action   = ["ec2:CreateNetworkInterface"]
        Resource = concat(local.subnet_arns, local.security_group_arns, ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:network-interface/*"])
      }],
      !local.in_vpc ? [] : [{
        Sid       = "ItsNetworkInterfacesOnly"
        Effect    = "Allow"
        Action    = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
        Resource  = "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:network-interface/*"
        Condition = { ArnLike = { "ec2:Subnet" = local.subnet_arns } }
      }],
      !local.in_vpc ? [] : [{
        Sid      = "DescribeNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
        Resource = "*"
      }],
      [
        {
          Sid      = "OwnLogGroupOnly"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${aws_cloudwatch_log_group.function.arn}:*"
        },
        {
          Sid      = "Tracing"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = "*"
        },
        {
          Sid      = "KeyThroughDynamoDBAndLambdaOnly"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
          Resource = var.kms_key_arn
          Condition = {
            StringEquals = {
              "kms:ViaService" = [
                "dynamodb.${data.aws_region.current.name}.amazonaws.com",
                "lambda.${data.aws_region.current.name}.amazonaws.com",
                "secretsmanager.${data.aws_region.current.name}.amazonaws.com",
              ]
            }
          }
        },
      ],
    )
  })
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously; a dead-letter queue only receives failed asynchronous invocations.
  # checkov:skip=CKV_AWS_117:A VPC is the environment's choice (network.mode); without one the function reaches only DynamoDB, Secrets Manager and X-Ray through IAM-authenticated AWS endpoints.
  # checkov:skip=CKV_AWS_272:Packages are content-addressed by their sha256, which Terraform pins as source_code_hash; add an AWS Signer code_signing_config where the organisation runs Signer.
  function_name    = local.function_name
  description      = "${var.name} service"
  role             = aws_iam_role.function.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.declaration.function.architecture]
  memory_size      = var.declaration.function.memory
  timeout          = var.declaration.function.timeout
  s3_bucket        = var.release.s3_bucket
  s3_key           = var.release.s3_key
  source_code_hash = var.release.code_sha256
  kms_key_arn      = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrency

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.network.subnet_ids
      security_group_ids = local.security_group_ids
    }
  }
  # On destroy, detach the function's ENIs from its group first, so the group and the subnets can go.
  replace_security_groups_on_destroy = local.created_vpc ? true : null
  replacement_security_group_ids     = local.created_vpc ? [var.network.default_security_group_id] : null

  environment {
    variables = merge(var.environment, local.table_environment)
  }

  logging_config {
    log_format            = "JSON"
    application_log_level = "INFO"
    system_log_level      = "WARN"
    log_group             = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags
  # The role's policy must exist before the first invocation writes logs.
  depends_on = [aws_iam_role_policy.function]
}

# HTTP API: one integration per route (API Gateway sets the integration timeout per integration).
resource "aws_apigatewayv2_integration" "route" {
  for_each = var.api_type == "http" ? var.declaration.routes : {}

  api_id                 = var.api_id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = each.value.timeoutMilliseconds
  description            = "${var.name}: ${each.key}"
}

resource "aws_apigatewayv2_route" "this" {
  # checkov:skip=CKV_AWS_309:Each route's authorization comes from its service.json; routes declaring NONE are public by the service's design and are visible in review there.
  for_each = var.api_type == "http" ? var.declaration.routes : {}

  api_id               = var.api_id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.route[each.key].id}"
  authorization_type   = each.value.authorization
  authorizer_id        = each.value.authorization == "JWT" ? var.authorizer_id : null
  authorization_scopes = each.value.authorization == "JWT" && length(each.value.scopes) > 0 ? each.value.scopes : null
}

# REST API: one method per route on the resource of its path (the parent module builds the tree),
# a Lambda proxy integration (payload 1.0), the JWT routes behind the Lambda authorizer.
locals {
  rest_routes = var.api_type == "rest" ? {
    for key, route in var.declaration.routes : key => merge(route, {
      method = split(" ", key)[0]
      path   = split(" ", key)[1]
      # {id} and {proxy+} segments, as the method's path parameters.
      parameters = [for segment in split("/", split(" ", key)[1]) : trimsuffix(trimprefix(trimsuffix(segment, "}"), "{"), "+") if can(regex("^\\{.*\\}$", segment))]
    })
  } : {}
}

resource "aws_api_gateway_method" "route" {
  # checkov:skip=CKV_AWS_59:Each route's authorization comes from its service.json; routes declaring NONE are public by the service's design and are visible in review there.
  for_each = local.rest_routes

  rest_api_id          = var.api_id
  resource_id          = var.rest_resource_ids[each.value.path]
  http_method          = each.value.method
  authorization        = each.value.authorization == "JWT" ? "CUSTOM" : "NONE"
  authorizer_id        = each.value.authorization == "JWT" ? var.authorizer_id : null
  api_key_required     = each.value.apiKeyRequired
  request_parameters   = { for name in each.value.parameters : "method.request.path.${name}" => true }
  request_validator_id = var.rest_validator_id
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.rest_routes

  rest_api_id             = var.api_id
  resource_id             = aws_api_gateway_method.route[each.key].resource_id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this.invoke_arn
  timeout_milliseconds    = each.value.timeoutMilliseconds
}

resource "aws_lambda_permission" "route" {
  for_each = local.route_source_arns

  statement_id  = "ApiRoute-${substr(sha256(each.key), 0, 16)}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = each.value
}
