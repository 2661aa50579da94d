# The mock AWS provider both test files use: the attributes the module reads from what it
# creates (ids, ARNs, invoke URLs), fixed so assertions can name them.
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_resource "aws_apigatewayv2_api" {
  defaults = { id = "api123", execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:api123" }
}
mock_resource "aws_api_gateway_rest_api" {
  defaults = { id = "rest123", root_resource_id = "root0", execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:rest123" }
}
mock_resource "aws_api_gateway_stage" {
  defaults = { arn = "arn:aws:apigateway:eu-west-1::/restapis/rest123/stages/staging", invoke_url = "https://rest123.execute-api.eu-west-1.amazonaws.com/staging" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/function" }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:f"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:f/invocations"
  }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f" }
}
mock_resource "aws_acm_certificate" {
  defaults = { arn = "arn:aws:acm:eu-west-1:123456789012:certificate/c1" }
}
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/k1" }
}
mock_data "aws_availability_zones" {
  defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
}
mock_data "aws_prefix_list" {
  defaults = { id = "pl-dynamodb" }
}
mock_resource "aws_vpc" {
  defaults = { id = "vpc-1", arn = "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1" }
}
mock_resource "aws_security_group" {
  defaults = { id = "sg-1", arn = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1" }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:swiftapi-staging-cursor-secret-AbCdEf" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:swiftapi-staging-alarms" }
}
