# What tells the on-call engineer that the environment is failing, generated from the same
# service.json files as the routes and tables: per function, route and table an alarm on each way
# it fails, measured against the service's objectives (service.json "objectives"; defaults in
# variables.tf); per service one composite "unhealthy" alarm, the only alarms that notify, so a
# failing service pages once; one SNS topic (encrypted with the environment's key) for the
# notifications; one dashboard. README "Operating it" says what each alarm means.
locals {
  # Where the runtime's Embedded Metric Format lines land (shared/Sources/LambdaRuntime/Metrics.swift).
  metrics_namespace = "${var.name}/${var.environment}"

  # Every function: the services', and the REST API's authorizer, held to default objectives.
  monitored_functions = merge(
    { for name, service in var.services : name => {
      function_name = module.service[name].function_name
      timeout       = service.function.timeout
      reserved      = coalesce(service.function.reservedConcurrency, var.reserved_concurrency)
      objectives    = service.objectives
    } },
    local.authorizer_deployed ? { authorizer = {
      function_name = module.authorizer[0].function_name
      timeout       = var.authorizer_function.timeout
      reserved      = var.reserved_concurrency
      objectives    = var.authorizer_objectives
    } } : {},
  )

  # Every route with its own objectives over its service's.
  monitored_routes = merge([for name, service in var.services : { for key, route in service.routes : key => {
    service    = name
    method     = split(" ", key)[0]
    path       = split(" ", key)[1]
    latency    = coalesce(route.objectives.latencyP99Milliseconds, service.objectives.latencyP99Milliseconds)
    error_rate = coalesce(route.objectives.errorRatePercent, service.objectives.errorRatePercent)
  } if key != "$default" }]...)

  monitored_tables = merge([for name, service in var.services : { for table, _ in service.tables : "${name}/${table}" => {
    service    = name
    table_name = module.service[name].table_names[table]
  } }]...)

  # API Gateway's per-route metrics (detailed metrics, enabled on the stage): an HTTP API's carry
  # its id, stage and route key; a REST API's its name, stage, method and resource path.
  api_metrics = local.http ? { count = "Count", errors = "5xx", client_errors = "4xx" } : { count = "Count", errors = "5XXError", client_errors = "4XXError" }
  route_dimensions = { for key, route in local.monitored_routes : key => local.http ?
    { ApiId = local.api.id, Stage = "$default", Route = key } :
    { ApiName = "${local.prefix}-api", Stage = local.rest_stage_name, Method = route.method, Resource = route.path }
  }

  # Alarm definitions: each one metric query or a metric-math expression over several, with the
  # threshold the objectives give and what to do when no data arrives (with the reason).
  function_alarms = merge([for name, f in local.monitored_functions : merge(
    {
      "${name} errors" = {
        service     = name
        description = "More than ${f.objectives.errorRatePercent}% of ${f.function_name}'s invocations failed. First: make logs SERVICE=${name} ENV=${var.environment} (error lines), then the dashboard's function row."
        threshold   = f.objectives.errorRatePercent
        expression  = "100 * errors / invocations"
        metrics = {
          errors      = { namespace = "AWS/Lambda", name = "Errors", dimensions = { FunctionName = f.function_name }, stat = "Sum" }
          invocations = { namespace = "AWS/Lambda", name = "Invocations", dimensions = { FunctionName = f.function_name }, stat = "Sum" }
        }
        # No invocations is no failure.
        missing = "notBreaching"
      }
      "${name} throttles" = {
        service     = name
        description = "More than ${f.objectives.errorRatePercent}% of ${f.function_name}'s invocations were throttled: its concurrency limit (reserved ${f.reserved}) or the account's is reached. First: the dashboard's concurrency, then raise reservedConcurrency in service.json."
        threshold   = f.objectives.errorRatePercent
        expression  = "100 * throttles / (invocations + throttles)"
        metrics = {
          throttles   = { namespace = "AWS/Lambda", name = "Throttles", dimensions = { FunctionName = f.function_name }, stat = "Sum" }
          invocations = { namespace = "AWS/Lambda", name = "Invocations", dimensions = { FunctionName = f.function_name }, stat = "Sum" }
        }
        # No traffic, nothing throttled.
        missing = "notBreaching"
      }
      "${name} duration" = {
        service     = name
        description = "${f.function_name}'s p99 duration is above ${f.objectives.durationShareOfTimeout * 100}% of its ${f.timeout} s timeout: requests are about to time out (504). First: the dashboard's DynamoDB latency and cold starts, make logs SERVICE=${name}."
        threshold   = f.objectives.durationShareOfTimeout * f.timeout * 1000
        expression  = null
        metrics = {
          duration = { namespace = "AWS/Lambda", name = "Duration", dimensions = { FunctionName = f.function_name }, stat = "p99" }
        }
        # No invocations, no duration.
        missing = "notBreaching"
      }
      "${name} init errors" = {
        service     = name
        description = "${f.function_name} failed to start (its runtime reported an init error): every request on a new instance fails. First: make logs SERVICE=${name} (\"start-up failed\"), then the last deploy (make info; make rollback SERVICE=${name})."
        threshold   = 0
        expression  = null
        metrics = {
          init_errors = { namespace = local.metrics_namespace, name = "InitErrors", dimensions = { Service = name }, stat = "Sum" }
        }
        # The runtime writes the metric only when start-up fails: no data is a healthy start.
        missing = "notBreaching"
      }
    },
    f.reserved > 0 ? {
      "${name} concurrency" = {
        service     = name
        description = "${f.function_name} uses more than 80% of its reserved concurrency (${f.reserved}): throttling is next. First: the dashboard's requests and duration (slow dependencies hold instances), then reservedConcurrency in service.json."
        threshold   = floor(f.reserved * 0.8)
        expression  = null
        metrics = {
          concurrency = { namespace = "AWS/Lambda", name = "ConcurrentExecutions", dimensions = { FunctionName = f.function_name }, stat = "Maximum" }
        }
        # Idle is not near the limit.
        missing = "notBreaching"
      }
    } : {},
  )]...)

  route_alarms = merge([for key, r in local.monitored_routes : {
    "${r.service} ${key} 5xx" = {
      service     = r.service
      description = "More than ${r.error_rate}% of ${key}'s answers are 5xx. First: make logs SERVICE=${r.service} ENV=${var.environment}, then the route's function and table rows on the dashboard."
      threshold   = r.error_rate
      expression  = "100 * errors / requests"
      metrics = {
        errors   = { namespace = "AWS/ApiGateway", name = local.api_metrics.errors, dimensions = local.route_dimensions[key], stat = "Sum" }
        requests = { namespace = "AWS/ApiGateway", name = local.api_metrics.count, dimensions = local.route_dimensions[key], stat = "Sum" }
      }
      # No requests, no errors.
      missing = "notBreaching"
    }
    "${r.service} ${key} latency" = {
      service     = r.service
      description = "${key}'s p99 latency, as API Gateway measures it, is above ${r.latency} ms. First: the dashboard's route and DynamoDB latency; cold starts show in the function row."
      threshold   = r.latency
      expression  = null
      metrics = {
        latency = { namespace = "AWS/ApiGateway", name = "Latency", dimensions = local.route_dimensions[key], stat = "p99" }
      }
      # No requests, no latency.
      missing = "notBreaching"
    }
  }]...)

  table_alarms = merge([for key, t in local.monitored_tables : {
    "${t.service} table ${split("/", key)[1]} throttles" = {
      service     = t.service
      description = "Requests to ${t.table_name} are throttled (on-demand tables throttle past twice their previous peak, or a hot partition key). First: the dashboard's table row; make capacity shows each access pattern's ceiling."
      threshold   = 0
      expression  = "reads + writes"
      metrics = {
        reads  = { namespace = "AWS/DynamoDB", name = "ReadThrottleEvents", dimensions = { TableName = t.table_name }, stat = "Sum" }
        writes = { namespace = "AWS/DynamoDB", name = "WriteThrottleEvents", dimensions = { TableName = t.table_name }, stat = "Sum" }
      }
      # DynamoDB publishes throttle events only when they happen.
      missing = "notBreaching"
    }
    "${t.service} table ${split("/", key)[1]} system errors" = {
      service     = t.service
      description = "DynamoDB answers requests to ${t.table_name} with 500s (service-side errors; the client retries them). First: the AWS Health Dashboard for DynamoDB in this region."
      threshold   = 0
      # SystemErrors is published per operation: Metrics Insights sums them for the table.
      expression = "SELECT SUM(SystemErrors) FROM SCHEMA(\"AWS/DynamoDB\", Operation, TableName) WHERE TableName = '${t.table_name}'"
      metrics    = {}
      # Published only when errors happen.
      missing = "notBreaching"
    }
  }]...)

  alarms = merge(local.function_alarms, local.route_alarms, local.table_alarms)
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.prefix}-alarms"
  display_name      = "${var.name} ${var.environment} alarms"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ThisEnvironmentsAlarmsPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = {
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.prefix}-*" }
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  })
}

# Who gets paged: email, HTTPS endpoints (chat integrations' webhooks), SQS or Lambda. A webhook URL
# carrying a secret would be stored in Terraform's state: subscribe such an integration outside
# Terraform (AWS Chatbot, for instance) to the topic the output `monitoring.topic_arn` names.
resource "aws_sns_topic_subscription" "alarms" {
  for_each  = { for s in var.alarm_subscriptions : "${s.protocol}:${s.endpoint}" => s }
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${local.prefix}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  # Breaching in 2 of the last 3 five-minute windows: a sustained problem, not one bad request.
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  treat_missing_data  = each.value.missing

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id          = metric_query.key
      return_data = each.value.expression == null
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        period      = 300
      }
    }
  }
  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value.expression]
    content {
      id          = "value"
      expression  = metric_query.value
      label       = each.key
      period      = startswith(metric_query.value, "SELECT") ? 300 : null
      return_data = true
    }
  }
  # No actions of its own: each alarm is a signal on the dashboard and in its service's composite
  # alarm, which notifies.
  tags = var.tags
}

resource "aws_cloudwatch_composite_alarm" "service" {
  for_each          = local.monitored_functions
  alarm_name        = "${local.prefix}-${each.key} unhealthy"
  alarm_description = "${each.key} in ${var.environment} is failing one of its objectives: the alarm in ALARM state says which (make alarms ENV=${var.environment})."
  alarm_rule        = join(" OR ", [for key, alarm in local.alarms : "ALARM(\"${aws_cloudwatch_metric_alarm.this[key].alarm_name}\")" if alarm.service == each.key])
  alarm_actions     = [aws_sns_topic.alarms.arn]
  ok_actions        = [aws_sns_topic.alarms.arn]
  tags              = var.tags
}

# One dashboard per environment: per service its routes, its function, its tables, its alarms.
locals {
  dashboard_rows = flatten([for name, f in local.monitored_functions : [
    { type = "text", width = 24, height = 1, properties = { markdown = "## ${name}: objectives p99 ≤ ${f.objectives.latencyP99Milliseconds} ms, errors ≤ ${f.objectives.errorRatePercent}%" } },
    [for title, metric in {
      "Requests per route (per minute)" = { name = local.api_metrics.count, stat = "Sum" }
      "5xx per route"                   = { name = local.api_metrics.errors, stat = "Sum" }
      "4xx per route"                   = { name = local.api_metrics.client_errors, stat = "Sum" }
      "Latency p50 per route (ms)"      = { name = "Latency", stat = "p50" }
      "Latency p99 per route (ms)"      = { name = "Latency", stat = "p99" }
      } : {
      type = "metric", width = 8, height = 6
      properties = {
        title   = title, region = local.region, view = "timeSeries", period = 60, stat = metric.stat
        metrics = [for key, r in local.monitored_routes : concat(["AWS/ApiGateway", metric.name], flatten([for d, v in local.route_dimensions[key] : [d, v]]), [{ label = key }]) if r.service == name]
      }
    } if length([for _, r in local.monitored_routes : r if r.service == name]) > 0],
    [for title, metrics in {
      "Function duration (ms)"         = [["AWS/Lambda", "Duration", "FunctionName", f.function_name, { stat = "p50", label = "p50" }], ["AWS/Lambda", "Duration", "FunctionName", f.function_name, { stat = "p99", label = "p99" }]]
      "Invocations, errors, throttles" = [for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", f.function_name, { stat = "Sum", label = m }]]
      "Cold starts and init (ms)"      = [[local.metrics_namespace, "ColdStart", "Service", name, { stat = "Sum", label = "cold starts" }], [local.metrics_namespace, "InitDuration", "Service", name, { stat = "p99", label = "init p99 (ms)" }]]
      "Concurrency"                    = [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", f.function_name, { stat = "Maximum", label = "max" }]]
      } : {
      type       = "metric", width = 6, height = 6
      properties = { title = title, region = local.region, view = "timeSeries", period = 60, metrics = metrics }
    }],
    [for key, t in local.monitored_tables : {
      type = "metric", width = 12, height = 6
      properties = {
        title   = "Table ${t.table_name}", region = local.region, view = "timeSeries", period = 60
        metrics = [for m in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"] : ["AWS/DynamoDB", m, "TableName", t.table_name, { stat = "Sum", label = m }]]
      }
    } if t.service == name],
    {
      type = "alarm", width = 24, height = 3
      properties = {
        title  = "${name} alarms"
        alarms = concat([aws_cloudwatch_composite_alarm.service[name].arn], [for key, alarm in local.alarms : aws_cloudwatch_metric_alarm.this[key].arn if alarm.service == name])
      }
    },
  ]])
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_rows })
}
