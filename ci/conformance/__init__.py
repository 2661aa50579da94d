"""The local DynamoDB measured against DynamoDB's documented and observed behaviour: the cases
(suite), their runner (run) and a bounded fuzzer (fuzz)."""
