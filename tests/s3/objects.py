#!/usr/bin/python3
"""Reads objects back from the test's S3 server with boto3, as a user's pipeline would.

Usage: objects.py ENDPOINT BUCKET get KEY | list PREFIX | presign METHOD KEY EXPIRES
Prints one JSON value: get {"exists", "size", "sha256", "content_type"}; list [keys]; presign: the URL.
"""

import hashlib
import json
import sys

import boto3
import botocore.config
import botocore.exceptions


def main():
    endpoint, bucket, command = sys.argv[1:4]
    args = sys.argv[4:]
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="S3RVER",
                      aws_secret_access_key="S3RVER", region_name="us-east-1",
                      config=botocore.config.Config(signature_version="s3v4",
                                                    s3={"addressing_style": "path"}))
    if command == "get":
        try:
            obj = s3.get_object(Bucket=bucket, Key=args[0])
        except botocore.exceptions.ClientError:
            print(json.dumps({"exists": False}))
            return
        body = obj["Body"].read()
        print(json.dumps({"exists": True, "size": len(body),
                          "sha256": hashlib.sha256(body).hexdigest(),
                          "content_type": obj.get("ContentType", "")}))
    elif command == "list":
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=args[0])
        print(json.dumps(sorted(o["Key"] for p in pages for o in p.get("Contents", []))))
    elif command == "presign":
        method = {"PUT": "put_object", "GET": "get_object"}[args[0]]
        print(json.dumps(s3.generate_presigned_url(method, Params={"Bucket": bucket,
                                                                   "Key": args[1]},
                                                   ExpiresIn=int(args[2]))))


if __name__ == "__main__":
    main()
