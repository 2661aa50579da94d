"""Everyday commands for a deployed environment, with the caller's own AWS credentials; the
Makefile's `make logs`, `make info` and `make alarms` call it.

    python3 -m ci.operate logs ENV SERVICE [--since 15m] [--follow] [--request ID]
    python3 -m ci.operate info ENV
    python3 -m ci.operate alarms ENV

What exists is read from the environment's Terraform outputs (its state: TF_STATE_BUCKET or
TF_BACKEND_CONFIG, as for make plan), never from naming rules written here again. A missing
credential, state or environment is one line saying what to do, exit status 1.
"""
import argparse
import datetime
import json
import re
import sys
import time

from ci.deploy import DeployError, Environment, declared_services, short


class OperateError(Exception):
    pass


def session(environment):
    import boto3
    session = boto3.session.Session(region_name=environment.settings["region"])
    if session.get_credentials() is None:
        raise OperateError("no AWS credentials: sign in (e.g. `aws sso login --profile <p>` and AWS_PROFILE=<p>) "
                           "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    return session


def outputs(environment):
    environment.init()
    shown = environment.terraform("output", "-json", capture=True, check=False)
    values = {k: v["value"] for k, v in json.loads(shown.stdout or "{}").items()} if shown.returncode == 0 else {}
    if "function_names" not in values:
        raise OperateError(f"{environment.name} has no outputs: it was never applied (make deploy ENV={environment.name})")
    return values


def since_milliseconds(text):
    match = re.fullmatch(r"(\d+)([smhd])", text or "")
    if not match:
        raise OperateError(f"SINCE={text} is not a duration: use e.g. 30s, 15m, 2h or 1d")
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int((time.time() - seconds) * 1000)


def stamp(milliseconds):
    return datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def pretty(message):
    """A JSON log line indented; anything else as it came."""
    try:
        return json.dumps(json.loads(message), indent=2, ensure_ascii=False)
    except ValueError:
        return message.rstrip("\n")


def logs(environment, service, since, follow, request):
    aws = session(environment)
    start = since_milliseconds(since)
    values = outputs(environment)
    groups = values["log_group_names"]
    if service not in groups or service == "access":
        services = sorted(k for k in groups if k != "access")
        raise OperateError(f"no service {service!r} in {environment.name}: services are {', '.join(services)}")
    client = aws.client("logs")
    named = {groups[service]: service, groups["access"]: "access"}
    # A quoted term matches the id anywhere in a line (CloudWatch Logs filter pattern syntax).
    pattern = {"filterPattern": f'"{request}"'} if request else {}
    while True:
        events = []
        for group, label in named.items():
            token = None
            while True:
                page = client.filter_log_events(logGroupName=group, startTime=start, **pattern, **({"nextToken": token} if token else {}))
                events += [(e["timestamp"], e.get("eventId", ""), label, e["message"]) for e in page.get("events", [])]
                token = page.get("nextToken")
                if not token:
                    break
        for timestamp, _, label, message in sorted(events):
            print(f"{stamp(timestamp)} {label} {pretty(message)}")
            start = max(start, timestamp + 1)
        sys.stdout.flush()
        if not follow:
            if not events:
                print(f"logs: no {service} or access log lines in {environment.name} in the last {since}"
                      + (f" mentioning {request}" if request else ""), file=sys.stderr)
            return
        time.sleep(2)


def environment_alarms(values):
    monitoring = values.get("monitoring") or {}
    names = []
    for service in (monitoring.get("services") or {}).values():
        names += [service["unhealthy"], *service["alarms"]]
    return monitoring, names


def describe(cloudwatch, names):
    found = {"MetricAlarms": [], "CompositeAlarms": []}
    for i in range(0, len(names), 100):
        page = cloudwatch.describe_alarms(AlarmNames=names[i:i + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        for kind in found:
            found[kind] += page.get(kind, [])
    return found


def info(environment):
    aws = session(environment)
    values = outputs(environment)
    region = environment.settings["region"]
    print(f"{environment.name} ({values.get('api_type', 'http')} API, {region})")
    print(f"  endpoint   {values['api_endpoint']}" + (f"  (domain {values['domain']})" if values.get("domain") else ""))
    if values.get("buffered_streamed_routes"):
        print(f"  buffered   {', '.join(values['buffered_streamed_routes'])} (streamed handlers, answered whole: at most 4 MB)")
    monitoring, names = environment_alarms(values)
    if monitoring.get("dashboard"):
        print(f"  dashboard  https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{monitoring['dashboard']}")
    lambda_ = aws.client("lambda")
    print("  functions")
    for service in declared_services(environment):
        name = values["function_names"].get(service)
        if not name:
            continue
        pointer = environment.pointer(service)
        function = lambda_.get_function_configuration(FunctionName=name)
        deployed = f"package {short(pointer)} deployed {pointer['deployed_at']} from {(pointer.get('commit') or '-')[:12]}" if pointer else "no release pointer"
        print(f"    {service:<12} {name}: {deployed}; {function['MemorySize']} MB, {function['Timeout']} s, last modified {function['LastModified']}")
    dynamodb = aws.client("dynamodb")
    print("  tables")
    for service, tables in sorted(values.get("table_names", {}).items()):
        for declared, table in sorted(tables.items()):
            description = dynamodb.describe_table(TableName=table)["Table"]
            print(f"    {service}/{declared:<10} {table}: {description['TableStatus']}")
    if names:
        found = describe(aws.client("cloudwatch"), names)
        states = {}
        for alarm in found["MetricAlarms"] + found["CompositeAlarms"]:
            states[alarm["StateValue"]] = states.get(alarm["StateValue"], 0) + 1
        print("  alarms     " + ", ".join(f"{count} {state}" for state, count in sorted(states.items())) + f" (of {len(names)})")
        for alarm in sorted(found["CompositeAlarms"], key=lambda a: a["AlarmName"]):
            print(f"    {alarm['AlarmName']}: {alarm['StateValue']}")


def alarms(environment):
    aws = session(environment)
    values = outputs(environment)
    _, names = environment_alarms(values)
    found = describe(aws.client("cloudwatch"), names)
    firing = sorted((a for a in found["CompositeAlarms"] + found["MetricAlarms"] if a["StateValue"] == "ALARM"),
                    key=lambda a: (a.get("AlarmRule") is None, a["AlarmName"]))
    if not firing:
        print(f"alarms: nothing is firing in {environment.name} ({len(names)} alarms)")
        return
    for alarm in firing:
        since = alarm["StateUpdatedTimestamp"]
        since = since.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(since, "strftime") else str(since)
        print(f"{alarm['AlarmName']}: ALARM since {since}: {alarm.get('StateReason', '')}")
        if alarm.get("AlarmDescription"):
            print(f"  {alarm['AlarmDescription']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("logs")
    p.add_argument("env")
    p.add_argument("service")
    p.add_argument("--since", default="15m")
    p.add_argument("--follow", action="store_true")
    p.add_argument("--request")
    for name in ("info", "alarms"):
        commands.add_parser(name).add_argument("env")
    args = parser.parse_args()
    environment = Environment(args.env)
    if args.command == "logs":
        logs(environment, args.service, args.since, args.follow, args.request)
    elif args.command == "info":
        info(environment)
    else:
        alarms(environment)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OperateError, DeployError) as error:
        print(f"{sys.argv[1] if len(sys.argv) > 1 else 'operate'}: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(0)
