#!/usr/bin/env python3
"""moto_server, with five repairs the project's tests need (moto 5.2.x), applied before it starts:

- An SDK's retry of a call moto already answered gets that answer again instead of running the call
  twice. Under load the AWS provider re-sent calls moto had answered (a CreateFunction answered 201
  was re-sent at once and refused 409 "Function already exist" for five minutes; a DeleteTable
  answered and re-sent found no table; an AddPermission re-sent left a second statement that the
  RemovePermission did not remove). AWS SDKs mark an operation's every attempt with one
  Amz-Sdk-Invocation-Id; a successful answer to a changing call is replayed to a later attempt with
  that id (and logged), as a retry-safe service answers it.
- CloudWatch PutCompositeAlarm is routed: moto stores composite alarms (its PutMetricAlarm handler
  reads AlarmRule, DescribeAlarms returns them) but its dispatch lacks the action's name.
- Lambda policy edits are serialised: moto removes a function's policy statement while iterating
  the list without a lock, so concurrent RemovePermission calls (Terraform destroys in parallel)
  skip each other's statements, and the provider then waits minutes for one that stays.
- AddPermission refuses a statement id the policy already holds, as Lambda does
  (ResourceConflictException): moto kept both, and a RemovePermission then left one behind.
- DeleteTable of a table that is gone names it as DynamoDB does ("Requested resource not found:
  Table: NAME not found"), the message the AWS provider reads as "already deleted"; moto's bare
  "Requested resource not found" fails the destroy instead.

Its request log names each call's X-Amz-Target, the SDK's attempt and the time taken, and a
connection the client reset while moto answered or drained it (werkzeug ignores those silently):
what a failed Terraform run met.

Started by ci/servers.py with moto_server's arguments (-H 127.0.0.1 -p PORT)."""
import functools
import json
import sys
import threading
import time
import urllib.parse

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.policy import Policy
from moto.cloudwatch.responses import CloudWatchResponse
from moto.dynamodb.exceptions import ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend
import moto.server
from moto.server import main
from werkzeug.serving import WSGIRequestHandler, run_simple

CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm

_policy_lock = threading.Lock()


def _serialised(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _policy_lock:
            return method(*args, **kwargs)
    return locked


class StatementConflict(LambdaClientError):
    code = 409

    def __init__(self, sid):
        super().__init__("ResourceConflictException", f"The statement id ({sid}) provided already exists. "
                         "Please provide a new statement id, or remove the existing statement.")


_add_statement = Policy.add_statement


def _add_statement_once(policy, raw, qualifier=None):
    sid = json.loads(raw).get("StatementId")
    if sid and any(statement.get("Sid") == sid for statement in policy.statements):
        raise StatementConflict(sid)
    return _add_statement(policy, raw, qualifier)


Policy.add_statement = _serialised(_add_statement_once)
Policy.del_statement = _serialised(Policy.del_statement)

_delete_table = DynamoDBBackend.delete_table


def _delete_table_naming_it(backend, name):
    try:
        return _delete_table(backend, name)
    except ResourceNotFoundException:
        raise ResourceNotFoundException(table_name=name) from None


DynamoDBBackend.delete_table = _delete_table_naming_it


def _call(handler):
    """What a request line leaves out: the X-Amz-Target (JSON protocols), the SDK's attempt, and
    the time taken so far."""
    headers = getattr(handler, "headers", None) or {}
    attempt = (headers.get("Amz-Sdk-Request") or "").split(";")[0]
    return (f"{headers.get('X-Amz-Target') or '-'} {attempt or '-'} "
            f"{time.monotonic() - getattr(handler, 'started', time.monotonic()):.2f}s")


class RetriesAnsweredOnce:
    """moto's WSGI application, with a changing call's successful answer kept per SDK invocation and
    replayed to that invocation's later attempts. An attempt that arrives while an earlier one is
    still being answered (the client gave up on a slow answer) waits for that answer first."""

    def __init__(self, app):
        self.app, self.answers, self.answering, self.lock = app, {}, {}, threading.Lock()

    def __call__(self, environ, start_response):
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            return self.app(environ, start_response)
        waited = False
        while True:
            with self.lock:
                answered, earlier = self.answers.get(invocation), self.answering.get(invocation)
                if not answered and not earlier:
                    self.answering[invocation] = done = threading.Event()
            if answered:
                return self.replay(environ, start_response, answered, waited)
            if not earlier:
                break
            if not earlier.wait(timeout=120):
                # The earlier attempt never finished (its body never came): this one runs as moto would.
                return self.app(environ, start_response)
            waited = True
        try:
            return self.answer(environ, start_response, invocation)
        finally:
            with self.lock:
                del self.answering[invocation]
            done.set()

    def answer(self, environ, start_response, invocation):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: captured.setdefault("written", []).append(data)

        answer = self.app(environ, capture)
        try:
            chunks = list(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        body = b"".join(captured.get("written", []) + chunks)
        if captured["status"].startswith("2"):
            with self.lock:
                self.answers[invocation] = (captured["status"], captured["headers"], body)
        start_response(captured["status"], captured["headers"])
        return [body]

    @staticmethod
    def replay(environ, start_response, answered, waited):
        status, headers, body = answered
        request = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        action = urllib.parse.parse_qs(request.decode(errors="replace")).get("Action", [""])[0]
        sys.stderr.write(f"replayed to {environ.get('HTTP_AMZ_SDK_REQUEST', 'a retry')} of {environ['REQUEST_METHOD']} "
                         f"{environ.get('PATH_INFO')} {environ.get('HTTP_X_AMZ_TARGET') or action}: {status}, "
                         f"{'answered while it waited' if waited else 'answered before'}\n")
        start_response(status, headers)
        return [body]


moto.server.run_simple = lambda host, port, app, **options: run_simple(host, port, RetriesAnsweredOnce(app), **options)

_handle_one_request = WSGIRequestHandler.handle_one_request
_log_request = WSGIRequestHandler.log_request


def _timed(handler):
    handler.started = time.monotonic()
    return _handle_one_request(handler)


WSGIRequestHandler.handle_one_request = _timed
WSGIRequestHandler.log_request = lambda handler, code="-", size="-": _log_request(handler, code, f"{size} {_call(handler)}")
WSGIRequestHandler.connection_dropped = lambda handler, error, environ=None: handler.log_error(
    "connection reset by the client: %s %s (%s)", getattr(handler, "requestline", "-"), _call(handler), error)

if __name__ == "__main__":
    main()
