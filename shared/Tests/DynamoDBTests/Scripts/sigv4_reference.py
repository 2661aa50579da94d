"""Signs each request read from stdin (a JSON list) with botocore's SigV4Auth at the given time and
prints the Authorization header of each, as a JSON list."""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

results = []
for case in json.load(sys.stdin):
    moment = datetime.datetime.fromtimestamp(case["epochSeconds"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda moment=moment: moment
    request = AWSRequest(method=case["method"], url=case["url"], data=base64.b64decode(case["body"]))
    for name, value in case["headers"]:
        request.headers[name] = value
    credentials = Credentials(case["accessKey"], case["secretKey"], case.get("sessionToken"))
    botocore.auth.SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    results.append(request.headers["Authorization"])
json.dump(results, sys.stdout)
