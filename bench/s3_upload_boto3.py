#!/usr/bin/python3
"""boto3's own transfer of FILE to s3://BUCKET/KEY on ENDPOINT, for bench/s3_upload.cc.

Usage: s3_upload_boto3.py ENDPOINT BUCKET KEY FILE PART_BYTES IN_FLIGHT
Prints {"seconds", "cpu_seconds"}: the wall time of upload_file and the CPU this process used
for it (user + system).
"""

import json
import resource
import sys
import time

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    endpoint, bucket, key, path, part, in_flight = sys.argv[1:7]
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="S3RVER",
                      aws_secret_access_key="S3RVER", region_name="us-east-1",
                      config=botocore.config.Config(signature_version="s3v4",
                                                    s3={"addressing_style": "path"}))
    config = TransferConfig(multipart_threshold=int(part), multipart_chunksize=int(part),
                            max_concurrency=int(in_flight), use_threads=True)
    c0, t0 = cpu(), time.monotonic()
    s3.upload_file(path, bucket, key, Config=config)
    t1, c1 = time.monotonic(), cpu()
    print(json.dumps({"seconds": t1 - t0, "cpu_seconds": c1 - c0}))


if __name__ == "__main__":
    main()
