variable "name" {
  description = "The service's name (its directory under services/)."
  type        = string
}

variable "prefix" {
  description = "Name prefix of the environment (<project>-<environment>)."
  type        = string
}

variable "declaration" {
  description = "The service's decoded service.json, as typed by the parent module."
  type = object({
    function = object({
      memory       = number
      timeout      = number
      architecture = string
      environment  = map(string)
    })
    routes = map(object({
      authorization       = string
      scopes              = list(string)
      timeoutMilliseconds = number
      apiKeyRequired      = bool
    }))
    tables = map(object({
      partitionKey = object({ name = string, type = string })
      sortKey      = optional(object({ name = string, type = string }))
      globalSecondaryIndexes = list(object({
        name             = string
        partitionKey     = object({ name = string, type = string })
        sortKey          = optional(object({ name = string, type = string }))
        projection       = string
        nonKeyAttributes = optional(list(string))
      }))
      localSecondaryIndexes = list(object({
        name             = string
        sortKey          = object({ name = string, type = string })
        projection       = string
        nonKeyAttributes = optional(list(string))
      }))
      stream       = optional(string)
      ttlAttribute = optional(string)
    }))
  })
}

variable "release" {
  description = "The package to run: bucket, content-addressed key and the zip's SHA-256 (base64)."
  type = object({
    s3_bucket   = string
    s3_key      = string
    code_sha256 = string
  })
}

variable "api_type" {
  description = "\"http\" (routes and integrations on an HTTP API) or \"rest\" (methods on a REST API's resources)."
  type        = string
  default     = "http"
}

variable "api_id" {
  type = string
}

variable "rest_validator_id" {
  description = "REST API only: the request validator that checks the methods' declared parameters."
  type        = string
  default     = null
}

variable "rest_resource_ids" {
  description = "REST API only: the resource id of every declared path (\"/users/{id}\" => id)."
  type        = map(string)
  default     = {}
}

variable "api_execution_arn" {
  type = string
}

variable "stage_name" {
  type = string
}

variable "authorizer_id" {
  description = "The authorizer for routes declaring authorization JWT: the HTTP API's JWT authorizer or the REST API's Lambda authorizer (null when none)."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "deletion_protection" {
  type = bool
}

variable "reserved_concurrency" {
  type = number
}

variable "environment" {
  description = "The function's environment variables (table names are added here)."
  type        = map(string)
  sensitive   = true
}

variable "tags" {
  type = map(string)
}

variable "permissions_boundary" {
  description = "Permissions boundary of the function's role."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets the function may read (GetSecretValue)."
  type        = list(string)
  default     = []
}

variable "network" {
  description = "The VPC the function runs in (null: Lambda's own network): subnets, extra security groups, and in a created VPC the DynamoDB prefix list, the endpoints' and the default security group."
  type = object({
    created                     = bool
    vpc_id                      = string
    vpc_arn                     = string
    subnet_ids                  = list(string)
    subnet_arns                 = list(string)
    security_group_ids          = list(string)
    dynamodb_prefix_list_id     = string
    endpoints_security_group_id = string
    default_security_group_id   = string
  })
  default = null
}
