#!/usr/bin/env python3
"""moto_server, with the one CloudWatch action moto 5.2 stores but does not route: PutCompositeAlarm.
moto's PutMetricAlarm handler already reads AlarmRule and DescribeAlarms returns composite alarms;
only the action's name is missing from its dispatch. Started by ci/servers.py with moto_server's
arguments (-H 127.0.0.1 -p PORT)."""
from moto.cloudwatch.responses import CloudWatchResponse
from moto.server import main

CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm

if __name__ == "__main__":
    main()
