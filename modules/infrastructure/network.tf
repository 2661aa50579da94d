# Private networking (network.mode = "create"): the functions in private subnets across two or three
# availability zones, DynamoDB reached through a gateway endpoint (free, and traffic stays on AWS's
# network), the services they call through interface endpoints, no internet route unless NAT is
# asked for. In "existing" mode the given subnets and security groups are used as they are.
locals {
  create_network = var.network.mode == "create"
  az_count       = local.create_network ? var.network.availability_zones : 0
  nat            = local.create_network && var.network.nat
  # NAT per AZ where an AZ outage must not cut the others off (production), one shared elsewhere.
  nat_gateways = local.nat ? (var.environment == "production" ? local.az_count : 1) : 0
  endpoints    = local.create_network ? toset(var.network.interface_endpoints) : toset([])
}

data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394:Only the first availability_zones names are used; a zone AWS adds later takes a later letter and changes nothing here.
  count = local.create_network ? 1 : 0
  state = "available"
}

data "aws_prefix_list" "dynamodb" {
  count = local.create_network ? 1 : 0
  name  = "com.amazonaws.${local.region}.dynamodb"
}

resource "aws_vpc" "this" {
  count                = local.create_network ? 1 : 0
  cidr_block           = var.network.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints' private DNS names
  tags                 = merge(var.tags, { Name = local.prefix })
}

# The default security group allows nothing: everything uses its own group.
resource "aws_default_security_group" "this" {
  count  = local.create_network ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = merge(var.tags, { Name = "${local.prefix}-default-denies-all" })
}

resource "aws_subnet" "private" {
  count                   = local.az_count
  vpc_id                  = aws_vpc.this[0].id
  cidr_block              = cidrsubnet(var.network.cidr, 4, count.index)
  availability_zone       = data.aws_availability_zones.available[0].names[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${local.prefix}-private-${count.index}", tier = "private" })
}

resource "aws_route_table" "private" {
  count  = local.az_count
  vpc_id = aws_vpc.this[0].id
  tags   = merge(var.tags, { Name = "${local.prefix}-private-${count.index}" })
}

resource "aws_route_table_association" "private" {
  count          = local.az_count
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# Only with nat = true: public subnets, an internet gateway and the NAT gateways.
resource "aws_subnet" "public" {
  # checkov:skip=CKV_AWS_130:These subnets hold only the NAT gateways, which need public addresses; no function runs in them.
  count                   = local.nat ? local.az_count : 0
  vpc_id                  = aws_vpc.this[0].id
  cidr_block              = cidrsubnet(var.network.cidr, 4, 8 + count.index)
  availability_zone       = data.aws_availability_zones.available[0].names[count.index]
  map_public_ip_on_launch = true
  tags                    = merge(var.tags, { Name = "${local.prefix}-public-${count.index}", tier = "public" })
}

resource "aws_internet_gateway" "this" {
  count  = local.nat ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = var.tags
}

resource "aws_route_table" "public" {
  count  = local.nat ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
  tags = merge(var.tags, { Name = "${local.prefix}-public" })
}

resource "aws_route_table_association" "public" {
  count          = local.nat ? local.az_count : 0
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count  = local.nat_gateways
  domain = "vpc"
  tags   = var.tags
}

resource "aws_nat_gateway" "this" {
  count         = local.nat_gateways
  subnet_id     = aws_subnet.public[count.index].id
  allocation_id = aws_eip.nat[count.index].id
  tags          = var.tags
}

resource "aws_route" "private_to_nat" {
  count                  = local.nat ? local.az_count : 0
  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[min(count.index, local.nat_gateways - 1)].id
}

# DynamoDB through the gateway endpoint, for this environment's tables and indexes only.
resource "aws_vpc_endpoint" "dynamodb" {
  count             = local.create_network ? 1 : 0
  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${local.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ThisEnvironmentsTablesOnly"
      Effect    = "Allow"
      Principal = "*"
      Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
      "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      Resource = local.table_arns
    }]
  })
  tags = merge(var.tags, { Name = "${local.prefix}-dynamodb" })
}

locals {
  table_arns = flatten([for _, service in module.service : [for arn in service.table_arns : [arn, "${arn}/index/*"]]])
}

# Interface endpoints: reachable on 443 from inside the VPC only.
resource "aws_security_group" "endpoints" {
  count       = length(local.endpoints) > 0 ? 1 : 0
  name        = "${local.prefix}-endpoints"
  description = "${local.prefix}: interface endpoints, HTTPS from the VPC"
  vpc_id      = aws_vpc.this[0].id
  ingress {
    description = "HTTPS from the functions in the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.network.cidr]
  }
  tags = var.tags
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.endpoints
  vpc_id              = aws_vpc.this[0].id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  tags                = merge(var.tags, { Name = "${local.prefix}-${each.key}" })
}

# Flow logs of every interface in the VPC, to a log group encrypted with the environment's key.
resource "aws_cloudwatch_log_group" "flow" {
  count             = local.create_network ? 1 : 0
  name              = "/aws/vpc/${local.prefix}-flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_iam_role" "flow_logs" {
  count                = local.create_network ? 1 : 0
  name                 = "${local.prefix}-vpc-flow-logs"
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  count = local.create_network ? 1 : 0
  name  = "${local.prefix}-vpc-flow-logs"
  role  = aws_iam_role.flow_logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "OwnFlowLogGroupOnly"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = "${aws_cloudwatch_log_group.flow[0].arn}:*"
    }]
  })
}

resource "aws_flow_log" "this" {
  count           = local.create_network ? 1 : 0
  vpc_id          = aws_vpc.this[0].id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow[0].arn
  iam_role_arn    = aws_iam_role.flow_logs[0].arn
  tags            = var.tags
}

locals {
  # What each service's function gets: null outside a VPC.
  function_network = var.network.mode == "none" ? null : {
    created                     = local.create_network
    vpc_id                      = local.create_network ? aws_vpc.this[0].id : null
    vpc_arn                     = local.create_network ? aws_vpc.this[0].arn : null
    subnet_ids                  = local.create_network ? aws_subnet.private[*].id : var.network.subnet_ids
    subnet_arns                 = local.create_network ? aws_subnet.private[*].arn : []
    security_group_ids          = local.create_network ? [] : var.network.security_group_ids
    dynamodb_prefix_list_id     = local.create_network ? data.aws_prefix_list.dynamodb[0].id : null
    endpoints_security_group_id = length(local.endpoints) > 0 ? aws_security_group.endpoints[0].id : null
    default_security_group_id   = local.create_network ? aws_default_security_group.this[0].id : null
  }
}
