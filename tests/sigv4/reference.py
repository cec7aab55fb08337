#!/usr/bin/python3
"""Signs requests with botocore's own S3 signers, for the SigV4 reference test.

Usage: reference.py CASES.json  (prints a JSON list, one answer per case, in order)

Each case: {"kind": "headers" | "presign", "method", "host", "path" (decoded, from the first
'/'), "query": [[name, value], ...] (decoded), "headers": [[name, value], ...], "body" (text),
"access_key", "secret_key", "token" ("" for none), "region", "amz_date" (YYYYMMDDTHHMMSSZ),
"expires" (presign)}.

The path is encoded the way botocore's S3 serializer encodes a key (quote, safe '/~'); the
signers are botocore.auth.S3SigV4Auth and S3SigV4QueryAuth, run through their add_auth at the
case's time. Their canonical request and string to sign are read from botocore's own debug log.
Each answer: {"canonical_request", "string_to_sign", "signature", "headers" (headers signing:
every header sent, lowercased names) or "url" (presign)}.
"""

import datetime
import json
import logging
import sys
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = {}

    def emit(self, record):
        if record.args and isinstance(record.args, tuple):
            title = record.msg.split(":")[0]
            self.records[title] = record.args[0]


def sign(case, capture):
    creds = Credentials(case["access_key"], case["secret_key"], case["token"] or None)
    # http: botocore then always hashes the payload (as ffpod does) instead of choosing
    # UNSIGNED-PAYLOAD; the scheme is not part of what is signed.
    url = "http://" + case["host"] + quote(case["path"], safe="/~")
    headers = {name: value for name, value in case["headers"]}
    params = {name: value for name, value in case["query"]}
    request = AWSRequest(method=case["method"], url=url, headers=headers,
                         data=case["body"].encode(), params=params)
    when = datetime.datetime.strptime(case["amz_date"], "%Y%m%dT%H%M%SZ")
    if case["kind"] == "headers":
        signer = S3SigV4Auth(creds, "s3", case["region"])
    else:
        signer = S3SigV4QueryAuth(creds, "s3", case["region"], expires=case["expires"])
    capture.records = {}
    with mock.patch("botocore.auth.datetime") as fake:
        fake.datetime.utcnow.return_value = when
        signer.add_auth(request)
    answer = {
        "canonical_request": capture.records["CanonicalRequest"],
        "string_to_sign": capture.records["StringToSign"],
        "signature": capture.records["Signature"],
    }
    if case["kind"] == "headers":
        answer["headers"] = {k.lower(): v for k, v in request.headers.items()}
        answer["headers"]["host"] = case["host"]
    else:
        answer["url"] = request.url
    return answer


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    capture = Capture()
    log = logging.getLogger("botocore.auth")
    log.setLevel(logging.DEBUG)
    log.addHandler(capture)
    json.dump([sign(case, capture) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
