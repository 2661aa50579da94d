# Account settings the environments rely on and no CI role may change. A REST API stage writes its
# access log through the role named in API Gateway's account settings, one per account and region
# (API Gateway Developer Guide, "Set up CloudWatch logging for REST APIs in API Gateway"); without
# it a stage with access logging is refused. HTTP APIs need none (their deploy role's log delivery
# permissions, policies.tf).
resource "aws_iam_role" "apigateway_logs" {
  name = "${var.name}-apigateway-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  role       = aws_iam_role.apigateway_logs.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

# Replaces whatever role the account's settings named before (README.md).
resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.apigateway_logs.arn
  depends_on          = [aws_iam_role_policy_attachment.apigateway_logs]
}
