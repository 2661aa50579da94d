# The state bucket and one artifacts bucket per environment, configured alike, encrypted with one
# key whose use each CI role may only make for its own environment's objects (policies.tf).
resource "aws_kms_key" "buckets" {
  description         = "${var.name}: Terraform state and artifacts"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKeyThroughIAM"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:CloudTrail data events record access; a log bucket per bucket adds nothing.
  # checkov:skip=CKV_AWS_144:State is versioned and packages rebuild byte-for-byte; cross-region replication is an account-level decision.
  # checkov:skip=CKV2_AWS_62:Nothing consumes these buckets' events.
  for_each = local.bucket_names
  bucket   = each.value
}

resource "aws_s3_bucket_versioning" "all" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.buckets.arn
    }
    # Without a bucket key the state's encryption context is the object's ARN, which is what
    # keeps staging's roles from decrypting production's state. Artifacts keep the cheaper
    # bucket key: one bucket per environment already separates them.
    bucket_key_enabled = each.key != "state"
  }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "all" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [each.value.arn, "${each.value.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
