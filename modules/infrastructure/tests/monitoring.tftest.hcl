# Alarms, the composite alarm per service, the topic and the dashboard, with a mock AWS provider,
# for every services/*/service.json: a service added by `make new` is covered with no edit here
# (ci/test-new-service.sh runs this file in its scratch copy).
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name        = "swiftapi"
  environment = "staging"
  services    = { for f in fileset("../../services", "*/service.json") : dirname(f) => jsondecode(file("../../services/${f}")) }
  releases = merge(
    { for f in fileset("../../services", "*/service.json") : dirname(f) => { s3_bucket = "artifacts", s3_key = "${dirname(f)}.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" } },
    { authorizer = { s3_bucket = "artifacts", s3_key = "authorizer.zip", code_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" } },
  )
  permissions_boundary = "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary"
  jwt_authorizer       = { issuer = "https://auth.example.com/", audience = ["swiftapi"] }
  alarm_subscriptions  = [{ protocol = "email", endpoint = "oncall@example.com" }]
}

run "every_function_route_and_table_has_its_alarms" {
  command = apply

  assert {
    condition = alltrue(flatten([for name, service in var.services : concat(
      [for kind in ["errors", "throttles", "duration", "init errors", "concurrency"] : contains(keys(aws_cloudwatch_metric_alarm.this), "${name} ${kind}")],
      [for key, _ in service.routes : contains(keys(aws_cloudwatch_metric_alarm.this), "${name} ${key} 5xx") && contains(keys(aws_cloudwatch_metric_alarm.this), "${name} ${key} latency") if key != "$default"],
      [for table, _ in service.tables : contains(keys(aws_cloudwatch_metric_alarm.this), "${name} table ${table} throttles") && contains(keys(aws_cloudwatch_metric_alarm.this), "${name} table ${table} system errors")],
    )]))
    error_message = "Every function has its error, throttle, duration, init-error and concurrency alarms; every route its 5xx and latency alarms; every table its throttle and system-error alarms."
  }
  assert {
    condition = alltrue(flatten([for name, service in var.services : [for key, route in service.routes : [
      aws_cloudwatch_metric_alarm.this["${name} ${key} latency"].threshold == coalesce(try(route.objectives.latencyP99Milliseconds, null), try(service.objectives.latencyP99Milliseconds, null), 1000),
      aws_cloudwatch_metric_alarm.this["${name} ${key} 5xx"].threshold == coalesce(try(route.objectives.errorRatePercent, null), try(service.objectives.errorRatePercent, null), 1),
    ] if key != "$default"]]))
    error_message = "Route alarms use the route's objectives, else the service's, else the defaults (p99 1000 ms, 1% 5xx)."
  }
  assert {
    condition = alltrue([for name, service in var.services :
      aws_cloudwatch_metric_alarm.this["${name} duration"].threshold == coalesce(try(service.objectives.durationShareOfTimeout, null), 0.8) * service.function.timeout * 1000
    && aws_cloudwatch_metric_alarm.this["${name} concurrency"].threshold == floor(coalesce(try(service.function.reservedConcurrency, null), 50) * 0.8)])
    error_message = "The duration alarm fires at the declared share of the function's timeout (default 80%); the concurrency alarm at 80% of the reserved concurrency."
  }
  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.this : length(coalesce(alarm.alarm_actions, [])) == 0 && length(coalesce(alarm.ok_actions, [])) == 0 && alarm.treat_missing_data == "notBreaching" && alarm.evaluation_periods == 3 && alarm.datapoints_to_alarm == 2])
    error_message = "Single alarms notify no one (their service's composite does), treat no data as healthy and need 2 breaching windows of 3."
  }
  assert {
    condition = alltrue([for name, _ in var.services :
      aws_cloudwatch_composite_alarm.service[name].alarm_actions == toset([aws_sns_topic.alarms.arn]) && aws_cloudwatch_composite_alarm.service[name].ok_actions == toset([aws_sns_topic.alarms.arn])
      && alltrue([for key, alarm in aws_cloudwatch_metric_alarm.this : strcontains(aws_cloudwatch_composite_alarm.service[name].alarm_rule, "ALARM(\"${alarm.alarm_name}\")") == startswith(key, "${name} ")])
    ])
    error_message = "Each service's composite alarm notifies the environment's topic and covers exactly that service's alarms."
  }
  assert {
    condition     = alltrue([for key, route in local.monitored_routes : [for q in aws_cloudwatch_metric_alarm.this["${route.service} ${key} 5xx"].metric_query : q.metric[0].dimensions if length(q.metric) > 0][0] == tomap({ ApiId = "api123", Stage = "$default", Route = key })])
    error_message = "On an HTTP API, route alarms read API Gateway's per-route metrics (ApiId, Stage, Route)."
  }
  assert {
    condition     = aws_apigatewayv2_stage.this[0].default_route_settings[0].detailed_metrics_enabled
    error_message = "The stage publishes the per-route metrics the alarms read."
  }
}

run "the_topic_is_encrypted_and_only_this_environments_alarms_publish" {
  command = apply

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.this.arn
    error_message = "The alarm topic is encrypted with the environment's key."
  }
  assert {
    condition     = [for s in jsondecode(aws_kms_key.this.policy).Statement : s.Principal if s.Sid == "CloudWatchAlarmsPublishToThisEnvironmentsTopic"] == [{ Service = "cloudwatch.amazonaws.com" }]
    error_message = "The key lets CloudWatch alarms encrypt what they publish."
  }
  assert {
    condition     = jsondecode(aws_sns_topic_policy.alarms.policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:swiftapi-staging-*"
    error_message = "Only this environment's alarms may publish to its topic."
  }
  assert {
    condition     = [for s in aws_sns_topic_subscription.alarms : [s.protocol, s.endpoint]] == [["email", "oncall@example.com"]]
    error_message = "The declared subscriptions, no others."
  }
}

run "the_dashboard_covers_every_route_function_and_table" {
  command = apply

  assert {
    condition = alltrue(flatten([for name, service in var.services : concat(
      [for key, _ in service.routes : contains(flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in try(w.properties.metrics, []) : try(m[length(m) - 1].label, "")] if try(w.properties.title, "") == "Latency p99 per route (ms)"]), key) if key != "$default"],
      [contains(flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in try(w.properties.metrics, []) : m[3] if length(m) > 3] if try(w.properties.title, "") == "Function duration (ms)"]), "swiftapi-staging-${name}")],
      [for table, _ in service.tables : contains([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.title, "")], "Table swiftapi-staging-${table}")],
    )]))
    error_message = "Every route has its latency line, every function its duration widget, every table its widget."
  }
  assert {
    condition     = alltrue([for name, _ in var.services : contains(flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.alarms, [])]), aws_cloudwatch_composite_alarm.service[name].arn)])
    error_message = "The dashboard shows each service's alarms."
  }
}

run "objectives_in_service_json_set_the_thresholds" {
  command = apply
  variables {
    services = merge(
      { for f in fileset("../../services", "*/service.json") : dirname(f) => jsondecode(file("../../services/${f}")) },
      { users = merge(jsondecode(file("../../services/users/service.json")), {
        objectives = { latencyP99Milliseconds = 400, errorRatePercent = 0.5, durationShareOfTimeout = 0.5 }
        routes = merge(jsondecode(file("../../services/users/service.json")).routes, {
          "GET /users" = merge(jsondecode(file("../../services/users/service.json")).routes["GET /users"], { objectives = { latencyP99Milliseconds = 2500 } })
        })
        function = merge(jsondecode(file("../../services/users/service.json")).function, { reservedConcurrency = 10, metrics = false })
      }) },
    )
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["users GET /users latency"].threshold == 2500 && aws_cloudwatch_metric_alarm.this["users GET /users 5xx"].threshold == 0.5 && aws_cloudwatch_metric_alarm.this["users GET /users/{id} latency"].threshold == 400
    error_message = "A route's objective overrides its service's, which overrides the default."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["users duration"].threshold == 5000 && aws_cloudwatch_metric_alarm.this["users concurrency"].threshold == 8 && aws_cloudwatch_metric_alarm.this["users errors"].threshold == 0.5
    error_message = "Duration at the declared share of the timeout; concurrency at 80% of the declared reserve; errors at the service's rate."
  }
  assert {
    condition     = !contains(keys(module.service["users"].environment), "METRICS_NAMESPACE") && module.service["items"].environment["METRICS_NAMESPACE"] == "swiftapi/staging" && module.service["items"].environment["METRICS_SERVICE"] == "items"
    error_message = "function.metrics = false turns the runtime's metrics off for that service only."
  }
}

run "rest_alarms_read_rest_metrics_and_cover_the_authorizer" {
  command = apply
  variables {
    api_type = "rest"
    cors     = null
  }

  assert {
    condition     = alltrue([for key, route in local.monitored_routes : [for q in aws_cloudwatch_metric_alarm.this["${route.service} ${key} 5xx"].metric_query : q.metric[0].dimensions if length(q.metric) > 0][0] == tomap({ ApiName = "swiftapi-staging-api", Stage = "staging", Method = route.method, Resource = route.path })])
    error_message = "On a REST API, route alarms read its per-method metrics (ApiName, Stage, Method, Resource)."
  }
  assert {
    condition     = alltrue([for kind in ["errors", "throttles", "duration", "init errors"] : contains(keys(aws_cloudwatch_metric_alarm.this), "authorizer ${kind}")]) && contains(keys(aws_cloudwatch_composite_alarm.service), "authorizer")
    error_message = "The REST authorizer has its function alarms and its own composite alarm."
  }
  assert {
    condition     = module.authorizer[0].environment["METRICS_SERVICE"] == "authorizer"
    error_message = "The authorizer's runtime reports its metrics as \"authorizer\"."
  }
}

run "rejects_a_webhook_that_carries_a_secret" {
  command = plan
  variables {
    alarm_subscriptions = [{ protocol = "https", endpoint = "https://hooks.example.com/alarm?token=abc" }]
  }
  expect_failures = [var.alarm_subscriptions]
}

