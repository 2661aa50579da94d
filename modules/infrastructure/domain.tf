# Optional custom domain: an existing ACM certificate or one validated through DNS in the zone,
# a regional TLS 1.2 domain name mapped to the stage, and a Route 53 alias.
locals {
  domain_enabled    = var.domain != null
  issue_certificate = local.domain_enabled && try(var.domain.certificate_arn, null) == null
}

resource "aws_acm_certificate" "api" {
  count             = local.issue_certificate ? 1 : 0
  domain_name       = var.domain.name
  validation_method = "DNS"
  tags              = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

# The certificate covers one name, so it has one validation record (counted, not keyed by
# attributes only known after the certificate exists).
resource "aws_route53_record" "certificate_validation" {
  count           = local.issue_certificate ? 1 : 0
  zone_id         = var.domain.zone_id
  name            = tolist(aws_acm_certificate.api[0].domain_validation_options)[0].resource_record_name
  type            = tolist(aws_acm_certificate.api[0].domain_validation_options)[0].resource_record_type
  records         = [tolist(aws_acm_certificate.api[0].domain_validation_options)[0].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  count                   = local.issue_certificate ? 1 : 0
  certificate_arn         = aws_acm_certificate.api[0].arn
  validation_record_fqdns = [aws_route53_record.certificate_validation[0].fqdn]
}

resource "aws_apigatewayv2_domain_name" "api" {
  count       = local.domain_enabled ? 1 : 0
  domain_name = var.domain.name
  domain_name_configuration {
    certificate_arn = local.issue_certificate ? aws_acm_certificate_validation.api[0].certificate_arn : var.domain.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "api" {
  count       = local.domain_enabled ? 1 : 0
  api_id      = local.api.id
  domain_name = aws_apigatewayv2_domain_name.api[0].id
  stage       = local.http ? aws_apigatewayv2_stage.this[0].id : aws_api_gateway_stage.this[0].stage_name
}

resource "aws_route53_record" "api" {
  for_each = local.domain_enabled ? toset(["A", "AAAA"]) : toset([])
  zone_id  = var.domain.zone_id
  name     = var.domain.name
  type     = each.key
  alias {
    name                   = aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
