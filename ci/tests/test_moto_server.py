"""ci/moto_server.py's repairs, against the moto_server it starts: an SDK's retry of a call moto
already answered, or is still answering, gets that answer instead of running the call twice; a Lambda statement id is
refused a second time; a missing table's DeleteTable names the table as DynamoDB does."""
import io
import json
import socket
import threading
import time
import unittest
import urllib.error
import urllib.request
import zipfile

from ci import servers

AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=testing/20261207/eu-west-1/dynamodb/aws4_request, "
                 "SignedHeaders=host, Signature=0")


class MotoServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = servers.moto()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def dynamodb(self, operation, body, invocation, attempt=1):
        """(status, parsed body) of one attempt of a DynamoDB call, with the headers AWS SDKs send."""
        request = urllib.request.Request(self.moto.endpoint + "/", data=json.dumps(body).encode(), headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": AUTHORIZATION, "Amz-Sdk-Invocation-Id": invocation,
            "Amz-Sdk-Request": f"attempt={attempt}; max=3"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    def client(self, name):
        import boto3
        return boto3.client(name, endpoint_url=self.moto.endpoint, region_name="eu-west-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def test_a_retried_call_gets_the_first_answer_and_a_new_call_runs(self):
        table = {"TableName": "retried", "BillingMode": "PAY_PER_REQUEST",
                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                 "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
        self.assertEqual(self.dynamodb("CreateTable", table, "create-1")[0], 200)
        first = self.dynamodb("DeleteTable", {"TableName": "retried"}, "delete-1")
        self.assertEqual(first[0], 200)
        self.assertEqual(self.dynamodb("DeleteTable", {"TableName": "retried"}, "delete-1", attempt=2), first)
        # Another invocation is another call: the table is gone, and DynamoDB's message names it.
        status, refused = self.dynamodb("DeleteTable", {"TableName": "retried"}, "delete-2")
        self.assertEqual((status, refused["message"]), (400, "Requested resource not found: Table: retried not found"))

    def test_a_retry_that_overtakes_a_slow_attempt_waits_for_its_answer(self):
        # Attempt 1's body is held back, so moto is still answering it when attempt 2 arrives.
        body = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                b"<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
        head = ("PUT /overtaken HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n"
                "Authorization: AWS4-HMAC-SHA256 Credential=testing/20261207/eu-west-1/s3/aws4_request, "
                "SignedHeaders=host, Signature=0\r\nAmz-Sdk-Invocation-Id: bucket-1\r\n"
                "Amz-Sdk-Request: attempt={attempt}; max=3\r\nConnection: close\r\n\r\n")
        host = self.moto.endpoint.removeprefix("http://")

        def attempt(number, held_back):
            connection = socket.create_connection(host.rsplit(":", 1), timeout=30)
            request = head.format(host=host, length=len(body), attempt=number).encode() + body
            connection.sendall(request[:len(request) - held_back])
            return connection

        def status(connection):
            with connection, connection.makefile("rb") as answer:
                return int(answer.readline().split()[1])

        first = attempt(1, held_back=10)
        # moto reads the headers and starts answering attempt 1 at once; this gives its thread time
        # to get there before attempt 2 does on a loaded machine.
        time.sleep(0.5)
        statuses = {}
        retry = threading.Thread(target=lambda: statuses.update(second=status(attempt(2, held_back=0))))
        retry.start()
        retry.join(timeout=1)
        self.assertTrue(retry.is_alive(), "the retry was answered while the first attempt was still running")
        first.sendall(body[-10:])
        statuses["first"] = status(first)
        retry.join(timeout=30)
        self.assertEqual(statuses, {"first": 200, "second": 200})
        self.assertEqual([b["Name"] for b in self.client("s3").list_buckets()["Buckets"]], ["overtaken"])

    def test_a_failed_attempt_is_run_again(self):
        status, _ = self.dynamodb("DescribeTable", {"TableName": "later"}, "describe-1")
        self.assertEqual(status, 400)
        table = {"TableName": "later", "BillingMode": "PAY_PER_REQUEST",
                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                 "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
        self.assertEqual(self.dynamodb("CreateTable", table, "create-later")[0], 200)
        self.assertEqual(self.dynamodb("DescribeTable", {"TableName": "later"}, "describe-1", attempt=2)[0], 200)

    def test_a_statement_id_is_refused_a_second_time(self):
        role = self.client("iam").create_role(RoleName="function", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("bootstrap", "")
        functions = self.client("lambda")
        functions.create_function(FunctionName="once", Runtime="provided.al2023", Role=role, Handler="bootstrap",
                                  Code={"ZipFile": code.getvalue()})
        permission = {"FunctionName": "once", "StatementId": "ApiRoute", "Action": "lambda:InvokeFunction",
                      "Principal": "apigateway.amazonaws.com", "SourceArn": "arn:aws:execute-api:eu-west-1:123456789012:a/*"}
        functions.add_permission(**permission)
        with self.assertRaises(functions.exceptions.ResourceConflictException) as refused:
            functions.add_permission(**permission)
        self.assertIn("The statement id (ApiRoute) provided already exists", str(refused.exception))
        functions.remove_permission(FunctionName="once", StatementId="ApiRoute")
        with self.assertRaises(functions.exceptions.ResourceNotFoundException):
            functions.get_policy(FunctionName="once")  # nothing left behind


if __name__ == "__main__":
    unittest.main()
