variable "name" {
  description = "Project name: the prefix of every resource name (lower case, digits and dashes)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name))
    error_message = "name must be 2-24 characters of lower-case letters, digits and dashes, starting with a letter (e.g. \"swiftapi\")."
  }
}

variable "environment" {
  description = "Environment name: staging, production, or dev-<suffix> for personal stacks."
  type        = string
  validation {
    condition     = can(regex("^(staging|production|dev-[a-z0-9]{1,12})$", var.environment))
    error_message = "environment must be \"staging\", \"production\" or \"dev-<suffix>\" (suffix: up to 12 lower-case letters or digits)."
  }
}

# services/service.schema.json is the declarations' reference, checked by make check and by
# ci/deploy.py before every plan. Checked here as well: what needs every service at once, names that
# become resource names, and who may call a route (nothing opens by a bypassed check).
variable "services" {
  description = <<-EOT
    Each service's declaration, decoded from services/<name>/service.json: function settings,
    routes ("METHOD /path" keys) and the DynamoDB tables the service owns.
  EOT
  type = map(object({
    function = object({
      memory              = number
      timeout             = number
      architecture        = string
      reservedConcurrency = optional(number)
      environment         = optional(map(string), {})
      # The runtime's Embedded Metric Format lines (cold starts, per-route latency, DynamoDB calls).
      metrics = optional(bool, true)
    })
    # What the alarms and the dashboard hold the service to; a route may override latency and error rate.
    objectives = optional(object({
      latencyP99Milliseconds = optional(number, 1000)
      errorRatePercent       = optional(number, 1)
      durationShareOfTimeout = optional(number, 0.8)
    }), {})
    routes = map(object({
      # Required: "JWT", or "NONE" on a route also marked public (nothing is open by omission).
      authorization       = optional(string)
      public              = optional(bool, false)
      scopes              = optional(list(string), [])
      timeoutMilliseconds = optional(number, 30000)
      apiKeyRequired      = optional(bool, false)
      # The handler streams its body. API Gateway serves it buffered here (the function gathers it,
      # up to 4 MB): README, "Response streaming".
      streamed = optional(bool, false)
      throttle = optional(object({
        burstLimit = number
        rateLimit  = number
      }))
      objectives = optional(object({
        latencyP99Milliseconds = optional(number)
        errorRatePercent       = optional(number)
      }), {})
    }))
    tables = optional(map(object({
      partitionKey = object({ name = string, type = string })
      sortKey      = optional(object({ name = string, type = string }))
      globalSecondaryIndexes = optional(list(object({
        name             = string
        partitionKey     = object({ name = string, type = string })
        sortKey          = optional(object({ name = string, type = string }))
        projection       = string
        nonKeyAttributes = optional(list(string))
      })), [])
      localSecondaryIndexes = optional(list(object({
        name             = string
        sortKey          = object({ name = string, type = string })
        projection       = string
        nonKeyAttributes = optional(list(string))
      })), [])
      stream       = optional(string)
      ttlAttribute = optional(string)
    })), {})
  }))

  validation {
    condition     = alltrue([for name, _ in var.services : can(regex("^[a-z][a-z0-9-]{1,20}$", name)) && name != "authorizer"])
    error_message = "Service names must be 2-21 characters of lower-case letters, digits and dashes, and not \"authorizer\" (the REST API's authorizer function has that name)."
  }
  validation {
    condition = alltrue(flatten([for _, s in var.services : [for key, _ in s.routes :
      key == "$default" || can(regex("^(ANY|GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE) (/|(/([A-Za-z0-9._~-]+|\\{[A-Za-z_][A-Za-z0-9_]*\\}))*(/\\{[A-Za-z_][A-Za-z0-9_]*\\+\\})?)$", key))
    ]]))
    error_message = "Route keys must look like \"GET /users/{id}\": a method (ANY, GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE), one space, a path of literal or {param} segments, optionally ending in {proxy+}; or \"$default\"."
  }
  validation {
    condition     = length(flatten([for _, s in var.services : keys(s.routes)])) == length(distinct(flatten([for _, s in var.services : keys(s.routes)])))
    error_message = "Two services declare the same route key; each \"METHOD /path\" belongs to one service."
  }
  validation {
    condition = alltrue(flatten([for _, s in var.services : [for _, r in s.routes :
    contains(["NONE", "JWT"], coalesce(r.authorization, "missing"))]]))
    error_message = "Each route needs authorization JWT or NONE (none is assumed)."
  }
  validation {
    condition     = alltrue(flatten([for _, s in var.services : [for _, r in s.routes : (r.authorization == "NONE") == r.public]]))
    error_message = "A route with authorization NONE must be marked \"public\": true, and a public route must have authorization NONE: nothing is open by omission."
  }
}

variable "api_type" {
  description = <<-EOT
    "http": an API Gateway HTTP API (JWT authorizer built in, cheaper, lower latency). "rest": a REST
    API (WAF, API keys and usage plans, resource policies, edge-optimized endpoints), its JWT routes
    behind the project's Lambda REQUEST authorizer. See README ("Choosing the API type").
  EOT
  type        = string
  default     = "http"
  nullable    = false
  validation {
    condition     = contains(["http", "rest"], var.api_type)
    error_message = "api_type must be \"http\" or \"rest\"."
  }
  # What a REST API cannot express, said before any resource is planned.
  validation {
    condition     = var.api_type != "rest" || !contains(flatten([for _, s in var.services : keys(s.routes)]), "$default")
    error_message = "A REST API has no \"$default\" route: declare \"ANY /{proxy+}\" instead, or use api_type = \"http\"."
  }
  validation {
    condition = var.api_type != "rest" || alltrue([for key in flatten([for _, s in var.services : keys(s.routes)]) :
    key == "$default" ? true : length(split("/", split(" ", key)[1])) <= 7])
    error_message = "A REST route's path has at most 6 segments here (the module builds the resource tree level by level)."
  }
  validation {
    # Under one parent, a REST API allows one {variable} child (e.g. /users/{id} and /users/{userId}/x clash).
    condition = var.api_type != "rest" || alltrue([for parent, names in {
      for pair in flatten([for key in flatten([for _, s in var.services : keys(s.routes)]) : [
        for i, segment in split("/", split(" ", key)[1]) : {
          parent = join("/", slice(split("/", split(" ", key)[1]), 0, i))
          name   = segment
        } if i > 0 && can(regex("^\\{.*\\}$", segment))
      ] if key != "$default"]) : pair.parent => pair.name...
    } : length(distinct(names)) == 1])
    error_message = "Two routes name the same path segment differently (e.g. /users/{id} and /users/{userId}/orders): a REST API needs one name per position; rename one."
  }
  validation {
    condition     = var.api_type == "rest" || !anytrue(flatten([for _, s in var.services : [for _, r in s.routes : r.apiKeyRequired]]))
    error_message = "Routes declare \"apiKeyRequired\": true, but HTTP APIs have no API keys: use api_type = \"rest\" or drop apiKeyRequired."
  }
  validation {
    condition     = var.api_type != "rest" || length(var.rest.usage_plans) > 0 || !anytrue(flatten([for _, s in var.services : [for _, r in s.routes : r.apiKeyRequired]]))
    error_message = "Routes declare \"apiKeyRequired\": true but rest.usage_plans is empty: without a usage plan no API key is accepted."
  }
  validation {
    condition     = var.api_type != "rest" || var.cors == null
    error_message = "A REST API adds no CORS headers to Lambda proxy responses and answers no preflight by itself: set cors = null with api_type = \"rest\" (or keep api_type = \"http\")."
  }
  validation {
    condition     = var.api_type != "rest" || !anytrue(flatten([for _, s in var.services : [for _, r in s.routes : r.authorization == "JWT"]])) || contains(keys(var.releases), "authorizer")
    error_message = "JWT routes on a REST API go through the authorizer function, which needs a release: run `make deploy SERVICE=authorizer ENV=<env>`."
  }
}

variable "rest" {
  description = <<-EOT
    REST API settings (api_type = "rest"): endpoint_type REGIONAL or EDGE; an optional regional WAF
    web ACL to associate with the stage; an optional resource policy (JSON, "execute-api:/*"
    resources); the authorizer's result cache TTL in seconds (0-3600, 0 disables caching; default 60:
    a cached Allow outlives its token's exp by up to this long, and each miss is an invocation); usage
    plans (throttle, quota) for the routes declaring "apiKeyRequired": true, each listing the ids of
    API keys made outside Terraform (`aws apigateway create-api-key`), which ci/deploy.py attaches
    after the apply, so no key value is ever in Terraform's state.
  EOT
  type = object({
    endpoint_type          = optional(string, "REGIONAL")
    waf_web_acl_arn        = optional(string)
    resource_policy        = optional(string)
    authorizer_ttl_seconds = optional(number, 60)
    usage_plans = optional(map(object({
      api_key_ids = optional(list(string), [])
      throttle    = optional(object({ burst_limit = number, rate_limit = number }))
      quota       = optional(object({ limit = number, period = string }))
    })), {})
  })
  default  = {}
  nullable = false
  validation {
    condition     = contains(["REGIONAL", "EDGE"], var.rest.endpoint_type)
    error_message = "rest.endpoint_type must be REGIONAL or EDGE (a PRIVATE API needs VPC endpoints this module does not create)."
  }
  validation {
    condition     = var.rest.authorizer_ttl_seconds >= 0 && var.rest.authorizer_ttl_seconds <= 3600
    error_message = "rest.authorizer_ttl_seconds must be between 0 and 3600 (API Gateway's limit)."
  }
  validation {
    condition     = var.rest.waf_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/", coalesce(var.rest.waf_web_acl_arn, "-")))
    error_message = "rest.waf_web_acl_arn must be a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)."
  }
  validation {
    condition     = var.rest.resource_policy == null || can(jsondecode(var.rest.resource_policy).Statement)
    error_message = "rest.resource_policy must be an IAM policy document in JSON (with a Statement)."
  }
  validation {
    condition     = alltrue([for _, plan in var.rest.usage_plans : plan.quota == null || contains(["DAY", "WEEK", "MONTH"], try(plan.quota.period, ""))])
    error_message = "A usage plan's quota.period is DAY, WEEK or MONTH."
  }
}

variable "releases" {
  description = <<-EOT
    The package each service runs: its content-addressed zip in the artifacts bucket and the zip's
    SHA-256 in base64, as recorded by `make deploy` (ci/deploy.py).
  EOT
  type = map(object({
    s3_bucket   = string
    s3_key      = string
    code_sha256 = string
  }))
  validation {
    condition     = alltrue([for _, r in var.releases : can(regex("^[A-Za-z0-9+/]{43}=$", r.code_sha256))])
    error_message = "Each release's code_sha256 must be the zip's SHA-256 in base64 (as Lambda reports CodeSha256)."
  }
  validation {
    condition     = alltrue([for name, _ in var.services : contains(keys(var.releases), name)])
    error_message = "Every service needs a release (its package in the artifacts bucket): run `make deploy SERVICE=<name> ENV=<env>` once per new service."
  }
}

variable "authorizer_function" {
  description = "The REST API's Lambda authorizer function: memory (MB), timeout (s) and architecture of its bootstrap (make package SERVICE=authorizer)."
  type = object({
    memory       = optional(number, 256)
    timeout      = optional(number, 10)
    architecture = optional(string, "x86_64")
  })
  default  = {}
  nullable = false
}

variable "authorizer_objectives" {
  description = "What the REST API's authorizer function is held to (its alarms): as a service's objectives."
  type = object({
    latencyP99Milliseconds = optional(number, 1000)
    errorRatePercent       = optional(number, 1)
    durationShareOfTimeout = optional(number, 0.8)
  })
  default  = {}
  nullable = false
}

variable "alarm_subscriptions" {
  description = <<-EOT
    Who the environment's alarms notify (its SNS topic): protocol email, https, sqs or lambda, and the
    endpoint. Email and HTTPS endpoints confirm their subscription. A webhook URL that carries a
    secret would be stored in Terraform's state: subscribe such integrations outside Terraform to
    the topic the output monitoring.topic_arn names.
  EOT
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default  = []
  nullable = false
  validation {
    condition     = alltrue([for s in var.alarm_subscriptions : contains(["email", "https", "sqs", "lambda"], s.protocol)])
    error_message = "alarm_subscriptions: protocol is email, https, sqs or lambda."
  }
  validation {
    condition     = alltrue([for s in var.alarm_subscriptions : s.protocol != "https" || (startswith(s.endpoint, "https://") && !can(regex("[?&](token|key|secret|signature|sig)=", lower(s.endpoint))))])
    error_message = "alarm_subscriptions: an https endpoint is an https:// URL without a credential in it (token=, key=, secret=, signature=): such a URL would be stored in the state; subscribe it outside Terraform."
  }
}

variable "permissions_boundary" {
  description = "ARN of the managed policy every function role carries as its permissions boundary (environments/bootstrap creates <name>-<environment>-function-boundary; the deploy role can create roles only with it)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM policy ARN, e.g. arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary."
  }
}

variable "jwt_authorizer" {
  description = "The JWT authorizer for routes declaring \"authorization\": \"JWT\": the token issuer URL and accepted audiences; REST only, jwks_url where the issuer's OpenID discovery document does not say (HTTP APIs always discover it)."
  type = object({
    issuer   = string
    audience = list(string)
    jwks_url = optional(string)
  })
  default = null
  validation {
    condition     = var.jwt_authorizer == null || (startswith(try(var.jwt_authorizer.issuer, ""), "https://") && length(try(var.jwt_authorizer.audience, [])) > 0)
    error_message = "jwt_authorizer.issuer must be an https:// URL and audience must name at least one audience."
  }
  validation {
    condition     = startswith(coalesce(try(var.jwt_authorizer.jwks_url, null), "https://"), "https://")
    error_message = "jwt_authorizer.jwks_url must be an https:// URL: signing keys are never fetched in the clear."
  }
  validation {
    condition     = var.jwt_authorizer != null || !anytrue(flatten([for _, s in var.services : [for _, r in s.routes : r.authorization == "JWT"]]))
    error_message = "Some routes declare \"authorization\": \"JWT\" but jwt_authorizer is not set: give the token issuer and audience."
  }
}

variable "cors" {
  description = "The HTTP API's CORS configuration (API Gateway answers preflight requests; the local gateway reads the same values from terraform.tfvars.json). null disables CORS."
  type = object({
    allow_origins     = list(string)
    allow_methods     = list(string)
    allow_headers     = list(string)
    expose_headers    = list(string)
    allow_credentials = bool
    max_age           = number
  })
  default = null
  validation {
    condition     = var.cors == null || !(try(var.cors.allow_credentials, false) && contains(try(var.cors.allow_origins, []), "*"))
    error_message = "cors.allow_credentials cannot be combined with the \"*\" origin; list the allowed origins."
  }
}

variable "throttling" {
  description = "Stage-wide default throttling; routes may declare a stricter \"throttle\" in service.json."
  type = object({
    burst_limit = number
    rate_limit  = number
  })
  default  = { burst_limit = 500, rate_limit = 1000 }
  nullable = false
}

variable "log_retention_days" {
  description = "Retention of the functions' and the stage's log groups, in days (a CloudWatch Logs retention value, at least 365)."
  type        = number
  default     = 365
  nullable    = false
  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention of at least one year: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "access_log" {
  description = <<-EOT
    Stage access logs: format "json", "clf" or "custom" (then custom_format, using $context variables),
    and an optional subscription filter destination (e.g. a Firehose or Lambda ARN) with its role.
  EOT
  type = object({
    format                       = optional(string, "json")
    custom_format                = optional(string)
    subscription_destination_arn = optional(string)
    subscription_role_arn        = optional(string)
  })
  default  = {}
  nullable = false
  validation {
    condition     = contains(["json", "clf", "custom"], var.access_log.format) && (var.access_log.format != "custom" || try(length(var.access_log.custom_format) > 0, false))
    error_message = "access_log.format must be \"json\", \"clf\" or \"custom\"; \"custom\" needs custom_format."
  }
}

variable "deletion_protection" {
  description = "Protect the DynamoDB tables from deletion (production)."
  type        = bool
  default     = false
  nullable    = false
}

variable "reserved_concurrency" {
  description = "Reserved concurrency per function when service.json does not declare reservedConcurrency (-1: unreserved)."
  type        = number
  default     = 50
  nullable    = false
}

variable "domain" {
  description = <<-EOT
    Optional custom domain: the name, the Route 53 zone that holds it, and an existing ACM certificate
    ARN (when null, a certificate is requested and validated through DNS in that zone).
  EOT
  type = object({
    name            = string
    zone_id         = string
    certificate_arn = optional(string)
  })
  default = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "network" {
  description = <<-EOT
    Where the functions run. mode "none": Lambda's own network (no VPC). "existing": in the given
    subnet_ids with the given security_group_ids. "create": a VPC over availability_zones (2-3)
    private subnets, a DynamoDB gateway endpoint limited to this environment's tables, interface
    endpoints for interface_endpoints (Secrets Manager by default), a security group per service
    whose egress reaches only those, flow logs to an encrypted log group, and NAT gateways only when
    nat = true (one per AZ in production, one shared elsewhere).
  EOT
  type = object({
    mode                = string
    subnet_ids          = optional(list(string), [])
    security_group_ids  = optional(list(string), [])
    cidr                = optional(string, "10.40.0.0/16")
    availability_zones  = optional(number, 2)
    nat                 = optional(bool, false)
    interface_endpoints = optional(list(string), ["secretsmanager"])
  })
  default  = { mode = "none" }
  nullable = false
  validation {
    condition     = contains(["none", "existing", "create"], var.network.mode)
    error_message = "network.mode is none, existing or create."
  }
  validation {
    condition     = var.network.mode != "existing" || (length(var.network.subnet_ids) > 0 && length(var.network.security_group_ids) > 0)
    error_message = "network.mode = \"existing\" needs subnet_ids and security_group_ids."
  }
  validation {
    condition     = var.network.availability_zones >= 2 && var.network.availability_zones <= 3
    error_message = "network.availability_zones is 2 or 3."
  }
  validation {
    condition     = can(cidrnetmask(var.network.cidr)) && tonumber(split("/", var.network.cidr)[1]) <= 20
    error_message = "network.cidr must be an IPv4 CIDR block of /20 or larger, e.g. 10.40.0.0/16."
  }
}
