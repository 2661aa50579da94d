# What each CI role may do. Every statement names its environment: by ARN where the service scopes
# by ARN (functions, tables, log groups, roles, secrets, buckets, the hosted zone), by the
# `environment` tag where it cannot (API Gateway, KMS keys, ACM): aws:RequestTag on create,
# aws:ResourceTag afterwards (API Gateway evaluates a child resource against its API's tags).
# ci/iam_check.py walks these policies as IAM stores them and fails on an escalation path.
locals {
  arn = {
    for env, _ in var.environments : env => {
      prefix     = "${var.name}-${env}"
      functions  = "arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.name}-${env}-*"
      tables     = ["arn:${local.partition}:dynamodb:${var.region}:${local.account}:table/${var.name}-${env}-*"]
      log_groups = [for kind in ["lambda", "apigateway", "vpc"] : "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/${kind}/${var.name}-${env}-*"]
      roles      = "arn:${local.partition}:iam::${local.account}:role/${var.name}-${env}-*"
      secrets    = "arn:${local.partition}:secretsmanager:${var.region}:${local.account}:secret:${var.name}-${env}-*"
      topics     = "arn:${local.partition}:sns:${var.region}:${local.account}:${var.name}-${env}-*"
      alarms     = "arn:${local.partition}:cloudwatch:${var.region}:${local.account}:alarm:${var.name}-${env}-*"
      dashboards = ["arn:${local.partition}:cloudwatch::${local.account}:dashboard/${var.name}-${env}", "arn:${local.partition}:cloudwatch::${local.account}:dashboard/${var.name}-${env}-*"]
      aliases    = ["arn:${local.partition}:kms:${var.region}:${local.account}:alias/${var.name}-${env}", "arn:${local.partition}:kms:${var.region}:${local.account}:alias/${var.name}-${env}-*"]
      keys       = "arn:${local.partition}:kms:${var.region}:${local.account}:key/*"
      # HTTP APIs (/apis) and REST APIs (/restapis, their usage plans); children are evaluated against their API's tags.
      apis = [for path in ["/apis", "/apis/*", "/restapis", "/restapis/*", "/usageplans", "/usageplans/*", "/domainnames", "/domainnames/*", "/tags/*"] :
      "arn:${local.partition}:apigateway:${var.region}::${path}"]
      # Where a new API, usage plan or domain name is made: only these take the request's tag alone;
      # anything created under an existing one needs that one's tag (ManageApisOfThisEnvironment).
      api_collections = [for path in ["/apis", "/restapis", "/usageplans", "/domainnames"] : "arn:${local.partition}:apigateway:${var.region}::${path}"]
      state           = "${aws_s3_bucket.this["state"].arn}/${var.name}/${env}.tfstate"
      boundary        = "arn:${local.partition}:iam::${local.account}:policy/${var.name}-${env}-function-boundary"
    }
  }
  ci_roles     = "arn:${local.partition}:iam::${local.account}:role/${var.name}-ci-*"
  own_layers   = "arn:${local.partition}:lambda:${var.region}:${local.account}:layer:*"
  tag_is       = { for env, _ in var.environments : env => { StringEquals = { "aws:ResourceTag/environment" = env } } }
  request_tags = { for env, _ in var.environments : env => { StringEquals = { "aws:RequestTag/environment" = env } } }
  # The role and policy writes that can grant permissions: allowed only with the boundary attached.
  role_writes = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
  # Table data, secret values and log events: no CI role reads them (smoke tests go through the API).
  data_reads = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect", "dynamodb:ExportTableToPointInTime", "dynamodb:GetRecords", "secretsmanager:GetSecretValue",
  "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:StartLiveTail", "logs:GetLogRecord", "logs:Unmask"]
  # Invoking a function is reading data: behind API Gateway a function trusts the event's
  # authorizer context, so a direct caller can claim any identity. Nothing in a deploy invokes.
  invocations = ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:InvokeAsync", "lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]
}

# The most a function role can ever do, whatever policy a deploy attaches to it: its environment's
# tables and indexes, log groups and secrets, the environment's key through DynamoDB, Lambda and
# Secrets Manager only, and X-Ray. Table data and secret values only from inside this environment's
# functions: Lambda puts lambda:SourceFunctionArn into the request context of every call made with
# the execution role's credentials from the function's environment (Lambda Developer Guide, "Using
# source function ARN to control function access behavior"), so a role under this boundary whose
# trust names anyone else (a deploy role can change trust policies) reads nothing.
resource "aws_iam_policy" "function_boundary" {
  for_each    = var.environments
  name        = "${var.name}-${each.key}-function-boundary"
  description = "Permissions boundary of every ${each.key} function role"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TablesOfThisEnvironmentFromItsFunctions"
        Effect    = "Allow"
        Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
        Resource  = flatten([for t in local.arn[each.key].tables : [t, "${t}/index/*"]])
        Condition = { ArnLike = { "lambda:SourceFunctionArn" = local.arn[each.key].functions } }
      },
      {
        Sid      = "LogGroupsOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = [for g in local.arn[each.key].log_groups : "${g}:*"]
      },
      {
        Sid       = "SecretsOfThisEnvironmentFromItsFunctions"
        Effect    = "Allow"
        Action    = ["secretsmanager:GetSecretValue"]
        Resource  = local.arn[each.key].secrets
        Condition = { ArnLike = { "lambda:SourceFunctionArn" = local.arn[each.key].functions } }
      },
      {
        Sid      = "KeyOfThisEnvironmentThroughServices"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource = local.arn[each.key].keys
        Condition = {
          StringEquals = {
            "aws:ResourceTag/environment" = each.key
            "kms:ViaService"              = [for s in ["dynamodb", "lambda", "secretsmanager"] : "${s}.${var.region}.amazonaws.com"]
          }
        }
      },
      {
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
      {
        # Functions in a VPC: Lambda attaches their interfaces to this environment's subnets.
        Sid       = "NetworkInterfacesInThisEnvironmentsSubnets"
        Effect    = "Allow"
        Action    = ["ec2:CreateNetworkInterface"]
        Resource  = ["arn:${local.partition}:ec2:${var.region}:${local.account}:subnet/*", "arn:${local.partition}:ec2:${var.region}:${local.account}:security-group/*"]
        Condition = { StringEquals = { "aws:ResourceTag/environment" = each.key } }
      },
      {
        Sid      = "NetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
        Resource = "arn:${local.partition}:ec2:${var.region}:${local.account}:network-interface/*"
      },
      {
        Sid      = "DescribeNetwork"
        Effect   = "Allow"
        Action   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
        Resource = "*"
      },
    ]
  })
  tags = { environment = each.key }
}

# Guards shared by every CI role: explicit denies win over any allow, including one added later.
locals {
  guard_statements = { for env, _ in var.environments : env => [
    {
      Sid       = "NeverTheCIRoles"
      Effect    = "Deny"
      NotAction = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"]
      Resource  = local.ci_roles
    },
    {
      Sid       = "NeverRoleWritesWithoutTheBoundary"
      Effect    = "Deny"
      Action    = local.role_writes
      Resource  = "*"
      Condition = { ArnNotEquals = { "iam:PermissionsBoundary" = local.arn[env].boundary } }
    },
    {
      Sid      = "NeverBoundaryOrPolicyVersionChanges"
      Effect   = "Deny"
      Action   = ["iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"]
      Resource = "*"
    },
    {
      Sid      = "NeverIdentitiesOrCredentials"
      Effect   = "Deny"
      Action   = ["iam:*User*", "iam:*AccessKey*", "iam:*LoginProfile*", "iam:*Group*", "iam:*ServiceSpecificCredential*", "iam:*SSHPublicKey*", "iam:*MFADevice*", "iam:*OpenIDConnectProvider*", "iam:*SAMLProvider*", "iam:*InstanceProfile*"]
      Resource = "*"
    },
    {
      # Null=false: only requests that carry the tag; StringNotEquals alone would match untagged ones.
      Sid       = "NeverAnotherEnvironmentsTag"
      Effect    = "Deny"
      Action    = "*"
      Resource  = "*"
      Condition = { Null = { "aws:RequestTag/environment" = "false" }, StringNotEquals = { "aws:RequestTag/environment" = env } }
    },
    {
      Sid       = "NeverRemoveTheEnvironmentTag"
      Effect    = "Deny"
      Action    = ["apigateway:DELETE", "kms:UntagResource", "acm:RemoveTagsFromCertificate", "secretsmanager:UntagResource", "dynamodb:UntagResource", "lambda:UntagResource", "logs:UntagResource", "logs:UntagLogGroup", "iam:UntagRole", "ec2:DeleteTags"]
      Resource  = "*"
      Condition = { "ForAnyValue:StringEquals" = { "aws:TagKeys" = ["environment"] } }
    },
    {
      Sid      = "NeverTableDataSecretValuesOrLogEvents"
      Effect   = "Deny"
      Action   = local.data_reads
      Resource = "*"
    },
    {
      # A subscription sends every event of a log group to a destination, possibly another
      # account's: a way to read logs. The access log's subscription (access_log in the module) and
      # data protection policies are an administrator's apply.
      Sid      = "NeverSubscribeToLogsOrUnmaskThem"
      Effect   = "Deny"
      Action   = ["logs:PutSubscriptionFilter", "logs:PutDataProtectionPolicy", "logs:DeleteDataProtectionPolicy", "logs:PutAccountPolicy", "logs:DeleteAccountPolicy"]
      Resource = "*"
    },
    {
      Sid      = "NeverInvokeAFunctionOrOpenAFunctionUrl"
      Effect   = "Deny"
      Action   = local.invocations
      Resource = "*"
    },
    {
      # StringNotEquals also matches a request without the key.
      Sid       = "NeverLetAnyoneButApiGatewayInvoke"
      Effect    = "Deny"
      Action    = ["lambda:AddPermission"]
      Resource  = "*"
      Condition = { StringNotEquals = { "lambda:Principal" = "apigateway.amazonaws.com" } }
    },
    {
      Sid       = "NeverLayersFromAnotherAccount"
      Effect    = "Deny"
      Action    = ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"]
      Resource  = "*"
      Condition = { "ForAnyValue:StringNotLike" = { "lambda:Layer" = local.own_layers } }
    },
    {
      # A key policy names who may use the key: changing it is an administrator's apply of the
      # module's key (its policy is fixed at creation, which kms:CreateKey covers).
      Sid      = "NeverKeyPolicies"
      Effect   = "Deny"
      Action   = ["kms:PutKeyPolicy"]
      Resource = "*"
    },
    {
      # Grants only as an AWS service makes them for its own resources (DynamoDB, Lambda).
      Sid       = "NeverGrantsOutsideAWSServices"
      Effect    = "Deny"
      Action    = ["kms:CreateGrant"]
      Resource  = "*"
      Condition = { BoolIfExists = { "kms:GrantIsForAWSResource" = "false" } }
    },
  ] }
}

resource "aws_iam_role_policy" "guards" {
  for_each = local.roles
  name     = "guards"
  role     = aws_iam_role.ci[each.key].id
  policy   = jsonencode({ Version = "2012-10-17", Statement = local.guard_statements[each.value.environment] })
}

# Both kinds: their own environment's state object and lock, through the bucket key only for that
# object (the state bucket encrypts without a bucket key, so the encryption context is the object).
resource "aws_iam_role_policy" "state" {
  for_each = local.roles
  name     = "terraform-state"
  role     = aws_iam_role.ci[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "StateOfThisEnvironment"
        Effect   = "Allow"
        Action   = each.value.kind == "deploy" ? ["s3:GetObject", "s3:PutObject"] : ["s3:GetObject"]
        Resource = local.arn[each.value.environment].state
      },
      ], each.value.kind == "deploy" ? [{
        # Only a deploy takes the lock: plans run with -lock=false (ci/deploy.py), and a deploy
        # plans again under the lock, so a plan role cannot block or break a deploy.
        Sid      = "LockOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${local.arn[each.value.environment].state}.tflock"
      }] : [], [
      {
        Sid       = "ListState"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = aws_s3_bucket.this["state"].arn
        Condition = { StringLike = { "s3:prefix" = ["${var.name}/${each.value.environment}.tfstate*"] } }
      },
      {
        Sid       = "StateKeyForThisEnvironmentsObjectsOnly"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = aws_kms_key.buckets.arn
        Condition = { StringLike = { "kms:EncryptionContext:aws:s3:arn" = ["${local.arn[each.value.environment].state}*"] } }
      },
    ])
  })
}

locals {
  environment_tag = { for env, _ in var.environments : env => { StringEquals = { "aws:ResourceTag/environment" = env } } }
  certificates    = "arn:${local.partition}:acm:${var.region}:${local.account}:certificate/*"

  # Plan roles read configuration, never data: the describe/get/list calls Terraform makes to
  # refresh this environment, and the release pointers.
  plan_statements = { for env, settings in var.environments : env => concat([
    {
      Sid      = "FunctionsOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig", "lambda:GetPolicy", "lambda:ListVersionsByFunction", "lambda:GetFunctionConcurrency", "lambda:ListTags", "lambda:GetRuntimeManagementConfig"]
      Resource = local.arn[env].functions
    },
    {
      Sid      = "TableConfigurationOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"]
      Resource = local.arn[env].tables
    },
    {
      Sid      = "RolesOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"]
      Resource = local.arn[env].roles
    },
    {
      Sid      = "LogGroupsOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:DescribeSubscriptionFilters"]
      Resource = local.arn[env].log_groups
    },
    {
      Sid       = "KeysOfThisEnvironment"
      Effect    = "Allow"
      Action    = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
      Resource  = local.arn[env].keys
      Condition = local.environment_tag[env]
    },
    {
      Sid       = "ApisOfThisEnvironment"
      Effect    = "Allow"
      Action    = ["apigateway:GET"]
      Resource  = local.arn[env].apis
      Condition = local.environment_tag[env]
    },
    {
      Sid       = "CertificatesOfThisEnvironment"
      Effect    = "Allow"
      Action    = ["acm:DescribeCertificate", "acm:ListTagsForCertificate"]
      Resource  = local.certificates
      Condition = local.environment_tag[env]
    },
    {
      Sid      = "SecretMetadataOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
      Resource = local.arn[env].secrets
    },
    {
      Sid      = "ReleasePointersOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = "${aws_s3_bucket.this["artifacts-${env}"].arn}/releases/${env}/*"
    },
    {
      Sid       = "ListReleasePointers"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = aws_s3_bucket.this["artifacts-${env}"].arn
      Condition = { StringLike = { "s3:prefix" = ["releases/${env}/*"] } }
    },
    {
      Sid       = "ArtifactsKeyForThisEnvironmentsBucketOnly"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = aws_kms_key.buckets.arn
      Condition = { StringLike = { "kms:EncryptionContext:aws:s3:arn" = [aws_s3_bucket.this["artifacts-${env}"].arn] } }
    },
    {
      Sid      = "AlarmsTopicAndDashboardOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:GetDashboard"]
      Resource = concat([local.arn[env].topics, local.arn[env].alarms], local.arn[env].dashboards)
    },
    {
      Sid      = "UnscopedReads"
      Effect   = "Allow"
      Action   = ["logs:DescribeLogGroups", "kms:ListAliases", "acm:ListCertificates", "route53:GetChange", "sts:GetCallerIdentity", "ec2:Describe*"]
      Resource = "*"
    },
    ], settings.hosted_zone_id == null ? [] : [{
      Sid      = "HostedZoneOfThisEnvironment"
      Effect   = "Allow"
      Action   = ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"]
      Resource = "arn:${local.partition}:route53:::hostedzone/${settings.hosted_zone_id}"
  }]) }

  # Deploy roles manage their environment's resources and create roles only inside the boundary.
  # API Gateway, KMS keys and ACM certificates have no name in their ARNs: tags scope them. Four
  # managed policies, as IAM allows at most 6,144 characters in one and 10,240 in a role's inline
  # policies together (tests/trust.tftest.hcl checks both).
  deploy_policies = { for env, settings in var.environments : env => {
    # Functions, tables, log groups, function roles, secrets and the release artifacts.
    resources = [
      {
        # What Terraform's function and permission resources change (their reads are the plan
        # role's), and nothing that runs a function.
        Sid    = "ManageFunctionsOfThisEnvironment"
        Effect = "Allow"
        Action = ["lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion",
        "lambda:TagResource", "lambda:UntagResource", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:RemovePermission"]
        Resource  = local.arn[env].functions
        Condition = { "ForAllValues:StringLike" = { "lambda:Layer" = local.own_layers } }
      },
      {
        Sid       = "LetApiGatewayInvokeFunctionsOfThisEnvironment"
        Effect    = "Allow"
        Action    = ["lambda:AddPermission"]
        Resource  = local.arn[env].functions
        Condition = { StringEquals = { "lambda:Principal" = "apigateway.amazonaws.com" } }
      },
      {
        Sid      = "ManageTablesOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups"]
        Resource = flatten([for t in local.arn[env].tables : [t, "${t}/index/*"]])
      },
      {
        # Log groups' configuration, never their events.
        Sid    = "ManageLogGroupsOfThisEnvironment"
        Effect = "Allow"
        Action = ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
          "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
        "logs:DescribeSubscriptionFilters", "logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:DescribeMetricFilters"]
        Resource = flatten([for g in local.arn[env].log_groups : [g, "${g}:*"]])
      },
      {
        # An HTTP API stage's access log: API Gateway sets up a CloudWatch Logs delivery with the
        # caller's permissions (API Gateway Developer Guide, "Configuring logging for an HTTP API").
        # These actions take no resource-level scope; a resource policy lets AWS services write logs.
        Sid       = "DeliverHttpApiAccessLogs"
        Effect    = "Allow"
        Action    = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestedRegion" = var.region } }
      },
      {
        Sid       = "WriteRolesOnlyWithTheBoundary"
        Effect    = "Allow"
        Action    = local.role_writes
        Resource  = local.arn[env].roles
        Condition = { ArnEquals = { "iam:PermissionsBoundary" = local.arn[env].boundary } }
      },
      {
        Sid      = "RoleLifecycleOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListInstanceProfilesForRole", "iam:ListRoleTags"]
        Resource = local.arn[env].roles
      },
      {
        Sid       = "PassRolesOfThisEnvironmentToLambdaAndFlowLogs"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = local.arn[env].roles
        Condition = { StringEquals = { "iam:PassedToService" = ["lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com"] } }
      },
      {
        Sid      = "PublishPackagesAndPointers"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = "${aws_s3_bucket.this["artifacts-${env}"].arn}/*"
      },
      {
        Sid      = "ListArtifacts"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = aws_s3_bucket.this["artifacts-${env}"].arn
      },
      {
        Sid       = "ArtifactsKeyForPublishing"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = aws_kms_key.buckets.arn
        Condition = { StringLike = { "kms:EncryptionContext:aws:s3:arn" = [aws_s3_bucket.this["artifacts-${env}"].arn] } }
      },
      {
        Sid      = "ManageSecretsOfThisEnvironmentNeverReadThem"
        Effect   = "Allow"
        Action   = ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:GetResourcePolicy", "secretsmanager:RestoreSecret"]
        Resource = local.arn[env].secrets
      },
    ]
    # API Gateway, WAF associations, keys, certificates and DNS records.
    edge = concat([
      {
        Sid       = "CreateApisTaggedWithThisEnvironment"
        Effect    = "Allow"
        Action    = ["apigateway:POST"]
        Resource  = local.arn[env].api_collections
        Condition = { StringEquals = { "aws:RequestTag/environment" = env } }
      },
      {
        Sid       = "CreateKeysAndCertificatesTaggedWithThisEnvironment"
        Effect    = "Allow"
        Action    = ["kms:CreateKey", "acm:RequestCertificate"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestTag/environment" = env } }
      },
      {
        Sid       = "ManageApisOfThisEnvironment"
        Effect    = "Allow"
        Action    = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE", "apigateway:SetWebACL"]
        Resource  = local.arn[env].apis
        Condition = local.environment_tag[env]
      },
      {
        # rest.waf_web_acl_arn: associating the organisation's regional web ACL with this environment's
        # stage (apigateway:SetWebACL on the stage is scoped by ManageApisOfThisEnvironment's tag).
        Sid      = "AssociateWebAclsWithThisEnvironmentsStages"
        Effect   = "Allow"
        Action   = ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource", "wafv2:GetWebACL"]
        Resource = "arn:${local.partition}:wafv2:${var.region}:${local.account}:regional/webacl/*"
      },
      {
        Sid       = "ManageKeysOfThisEnvironment"
        Effect    = "Allow"
        Action    = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:UpdateKeyDescription"]
        Resource  = local.arn[env].keys
        Condition = local.environment_tag[env]
      },
      {
        # DynamoDB and Lambda make grants on the caller's behalf for the tables and functions
        # encrypted with the key; no one else gets one.
        Sid      = "GrantsOnlyForTablesAndFunctionsOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["kms:CreateGrant"]
        Resource = local.arn[env].keys
        Condition = {
          StringEquals = merge(local.environment_tag[env].StringEquals, { "kms:ViaService" = [for s in ["dynamodb", "lambda"] : "${s}.${var.region}.amazonaws.com"] })
          Bool         = { "kms:GrantIsForAWSResource" = "true" }
        }
      },
      {
        Sid      = "AliasesOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
        Resource = local.arn[env].aliases
      },
      {
        Sid       = "ManageCertificatesOfThisEnvironment"
        Effect    = "Allow"
        Action    = ["acm:DescribeCertificate", "acm:ListTagsForCertificate", "acm:AddTagsToCertificate", "acm:DeleteCertificate"]
        Resource  = local.certificates
        Condition = local.environment_tag[env]
      },
      ], settings.hosted_zone_id == null ? [] : [{
        # Only the environment's own names (its API's alias and its certificate's _validation
        # record), and only the types those are (Route 53 Developer Guide, "Using IAM policy
        # conditions for fine-grained access control").
        Sid      = "RecordsOfThisEnvironmentInItsHostedZone"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets"]
        Resource = "arn:${local.partition}:route53:::hostedzone/${settings.hosted_zone_id}"
        Condition = {
          "ForAllValues:StringLike" = {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames" = flatten([for name in settings.record_names : [lower(trimsuffix(name, ".")), "_*.${lower(trimsuffix(name, "."))}"]])
          }
          "ForAllValues:StringEquals" = { "route53:ChangeResourceRecordSetsRecordTypes" = ["A", "AAAA", "CNAME"] }
        }
    }])
    # The alarms, their SNS topic and subscriptions, the dashboard (monitoring.tf).
    monitoring = [
      {
        Sid      = "ManageTheAlarmTopicOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource", "sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes"]
        Resource = local.arn[env].topics
      },
      {
        Sid      = "ManageAlarmsAndTheDashboardOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["cloudwatch:PutMetricAlarm", "cloudwatch:PutCompositeAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"]
        Resource = concat([local.arn[env].alarms], local.arn[env].dashboards)
      },
    ]
    # The network of this environment (network.mode = "create").
    network = [
      {
        Sid    = "CreateNetworkTaggedWithThisEnvironment"
        Effect = "Allow"
        Action = ["ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint", "ec2:CreateInternetGateway",
        "ec2:CreateNatGateway", "ec2:AllocateAddress", "ec2:CreateFlowLogs"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestTag/environment" = env } }
      },
      {
        Sid       = "TagNetworkResourcesAsTheyAreCreated"
        Effect    = "Allow"
        Action    = ["ec2:CreateTags"]
        Resource  = "*"
        Condition = { StringEquals = { "ec2:CreateAction" = ["CreateVpc", "CreateSubnet", "CreateRouteTable", "CreateSecurityGroup", "CreateVpcEndpoint", "CreateInternetGateway", "CreateNatGateway", "AllocateAddress", "CreateFlowLogs"] } }
      },
      {
        # The network of this environment (network.mode = "create"): every change on resources tagged with it.
        Sid    = "ManageTheNetworkOfThisEnvironment"
        Effect = "Allow"
        Action = ["ec2:CreateTags", "ec2:DeleteTags", "ec2:ModifyVpcAttribute", "ec2:DeleteVpc", "ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
          "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:DeleteRouteTable",
          "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
          "ec2:DeleteSecurityGroup", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
          "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway", "ec2:ReleaseAddress", "ec2:AssociateAddress", "ec2:DisassociateAddress", "ec2:DeleteFlowLogs",
        "ec2:CreateVpcEndpoint", "ec2:CreateNatGateway", "ec2:CreateFlowLogs"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:ResourceTag/environment" = env } }
      },
    ]
  } }
}

# Each CI role's allows as managed policies: <name>-ci-<env>-read (attached to both kinds), and for
# deploy roles <name>-ci-<env>-deploy-resources|edge|network.
locals {
  ci_policies = merge(
    { for env, _ in var.environments : "${env}-read" => { environment = env, statements = local.plan_statements[env] } },
    merge([for env, parts in local.deploy_policies : { for part, statements in parts : "${env}-deploy-${part}" => { environment = env, statements = statements } }]...),
  )
  ci_attachments = merge([for key, role in local.roles : {
    for policy, _ in local.ci_policies : "${key}/${policy}" => { role = key, policy = policy }
    if local.ci_policies[policy].environment == role.environment && (policy == "${role.environment}-read" || role.kind == "deploy")
  }]...)
}

resource "aws_iam_policy" "ci" {
  # checkov:skip=CKV_AWS_355:"*" appears only with an aws:RequestTag/environment condition (creates AWS cannot scope by ARN) or for reads without resource-level scoping.
  # checkov:skip=CKV_AWS_290:Same as CKV_AWS_355: every write on "*" carries an environment tag condition.
  # checkov:skip=CKV_AWS_289:Role and policy writes are limited to role/<name>-<env>-* and conditioned on the environment's permissions boundary; boundary and policy-version changes are denied (guards).
  # checkov:skip=CKV_AWS_287:Reads on "*" are the ones without resource-level scoping; data reads are denied (guards).
  # checkov:skip=CKV_AWS_286:iam:PassRole is limited to role/<name>-<env>-*, passed to Lambda only; those roles carry the boundary.
  # checkov:skip=CKV_AWS_288:Same as CKV_AWS_287.
  for_each    = local.ci_policies
  name        = "${var.name}-ci-${each.key}"
  description = "What ${var.name}'s CI roles for ${each.value.environment} may do (environments/bootstrap)"
  policy      = jsonencode({ Version = "2012-10-17", Statement = each.value.statements })
  tags        = { environment = each.value.environment }
}

resource "aws_iam_role_policy_attachment" "ci" {
  for_each   = local.ci_attachments
  role       = aws_iam_role.ci[each.value.role].name
  policy_arn = aws_iam_policy.ci[each.value.policy].arn
}
