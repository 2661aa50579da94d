#!/usr/bin/env python3
"""moto_server, with two repairs the project's tests need (moto 5.2.x), applied before it starts:

- CloudWatch PutCompositeAlarm is routed: moto stores composite alarms (its PutMetricAlarm handler
  reads AlarmRule, DescribeAlarms returns them) but its dispatch lacks the action's name.
- Lambda policy edits are serialised: moto removes a function's policy statement while iterating
  the list without a lock, so concurrent RemovePermission calls (Terraform destroys in parallel)
  skip each other's statements, and the provider then waits minutes for one that stays.

Started by ci/servers.py with moto_server's arguments (-H 127.0.0.1 -p PORT)."""
import functools
import threading

from moto.awslambda.policy import Policy
from moto.cloudwatch.responses import CloudWatchResponse
from moto.server import main

CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm

_policy_lock = threading.Lock()


def _serialised(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _policy_lock:
            return method(*args, **kwargs)
    return locked


Policy.add_statement = _serialised(Policy.add_statement)
Policy.del_statement = _serialised(Policy.del_statement)

if __name__ == "__main__":
    main()
