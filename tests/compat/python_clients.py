"""boto3 and the AWS CLI against the tigris-emulator binary: independent SigV4 signers and S3/IAM clients.

Usage: python python_clients.py PATH-TO-tigris-emulator
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT_KEY, ROOT_SECRET = "tid_compat_root", "tsec_compat_root_secret"


def start(binary):
    proc = subprocess.Popen(
        [binary, "--port", "0", "--access-key", ROOT_KEY, "--secret-key", ROOT_SECRET],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


def clients(endpoint, key=ROOT_KEY, secret=ROOT_SECRET, **config):
    cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                 response_checksum_validation="when_required", retries={"max_attempts": 1}, **config)
    kw = dict(endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, region_name="auto", config=cfg)
    return boto3.client("s3", **kw), boto3.client("iam", **kw)


def with_headers(client, operation, headers):
    """Adds headers before signing, as tigris-boto3-ext does; returns the handler to unregister."""
    def handler(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    client.meta.events.register(f"before-sign.s3.{operation}", handler)
    return lambda: client.meta.events.unregister(f"before-sign.s3.{operation}", handler)


def code(err):
    return err.response["Error"]["Code"]


def fetch(url, method="GET", data=None):
    """Status and body of a plain, unsigned HTTP request, as a browser would send a presigned URL."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def aws_cli(endpoint, tmp):
    """A function running the venv's AWS CLI against the emulator, configured in `tmp`."""
    aws = shutil.which("aws", path=os.path.dirname(sys.executable))
    assert aws, "the AWS CLI is not installed in the venv"
    config = os.path.join(tmp, "config")
    with open(config, "w") as f:
        f.write("[default]\nregion = auto\ns3 =\n    addressing_style = path\n")
    env = dict(os.environ, AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
               AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET, AWS_ENDPOINT_URL=endpoint,
               AWS_REQUEST_CHECKSUM_CALCULATION="when_required")

    def cli(*args):
        out = subprocess.run([aws, *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"aws {' '.join(args)}: {out.stderr}"
        return out.stdout
    return cli


def main(binary):
    proc, endpoint = start(binary)
    s3, iam = clients(endpoint)
    checks = []

    def check(name):
        def wrap(fn):
            checks.append((name, fn))
            return fn
        return wrap

    @check("create bucket with region auto and no location constraint")
    def _():
        s3.create_bucket(Bucket="compat")
        assert any(b["Name"] == "compat" for b in s3.list_buckets()["Buckets"])

    @check("keys with spaces, plus, percent and unicode round-trip through list (encoding-type=url)")
    def _():
        keys = ["a b+c%d.txt", "dir/ü.txt", "q?#=&.txt"]
        for k in keys:
            s3.put_object(Bucket="compat", Key=k, Body=k.encode())
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="compat")["Contents"]]
        assert sorted(listed) == sorted(keys), listed
        for k in keys:
            assert s3.get_object(Bucket="compat", Key=k)["Body"].read() == k.encode()

    @check("copy with a percent-encoded source")
    def _():
        s3.copy_object(Bucket="compat", Key="copy.txt", CopySource={"Bucket": "compat", "Key": "a b+c%d.txt"})
        assert s3.get_object(Bucket="compat", Key="copy.txt")["Body"].read() == b"a b+c%d.txt"

    @check("snapshot, read at the snapshot, fork, bucket info via signed x-tigris headers")
    def _():
        undo = with_headers(s3, "CreateBucket", {"X-Tigris-Enable-Snapshot": "true"})
        s3.create_bucket(Bucket="snaps")
        undo()
        s3.put_object(Bucket="snaps", Key="k", Body=b"v1")
        undo = with_headers(s3, "CreateBucket", {"X-Tigris-Snapshot": "true; name=first"})
        version = s3.create_bucket(Bucket="snaps")["ResponseMetadata"]["HTTPHeaders"]["x-tigris-snapshot-version"]
        undo()
        s3.put_object(Bucket="snaps", Key="k", Body=b"v2")
        undo = with_headers(s3, "GetObject", {"X-Tigris-Snapshot-Version": version})
        assert s3.get_object(Bucket="snaps", Key="k")["Body"].read() == b"v1"
        undo()
        undo = with_headers(s3, "ListBuckets", {"X-Tigris-Snapshot": "snaps"})
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        undo()
        assert names == [f"{version}; name=first"], names
        undo = with_headers(s3, "CreateBucket", {"X-Tigris-Fork-Source-Bucket": "snaps",
                                                  "X-Tigris-Fork-Source-Bucket-Snapshot": version})
        s3.create_bucket(Bucket="snaps-fork")
        undo()
        assert s3.get_object(Bucket="snaps-fork", Key="k")["Body"].read() == b"v1"
        headers = s3.head_bucket(Bucket="snaps-fork")["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-tigris-fork-source-bucket"] == "snaps", headers
        assert headers["x-tigris-fork-source-bucket-snapshot"] == version

    @check("force delete with the X-Tigris-Force-Delete spelling")
    def _():
        try:
            s3.delete_bucket(Bucket="snaps-fork")
            raise AssertionError("a non-empty bucket was deleted without force")
        except ClientError as e:
            assert code(e) == "BucketNotEmpty", code(e)
        undo = with_headers(s3, "DeleteBucket", {"X-Tigris-Force-Delete": "true"})
        s3.delete_bucket(Bucket="snaps-fork")
        undo()

    @check("lifecycle configuration round-trips")
    def _():
        rule = {"ID": "ttl", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
        s3.put_bucket_lifecycle_configuration(Bucket="compat", LifecycleConfiguration={"Rules": [rule]})
        got = s3.get_bucket_lifecycle_configuration(Bucket="compat")["Rules"][0]
        assert got["Expiration"]["Days"] == 1, got

    @check("IAM: a scoped read-only key reads its bucket and nothing more")
    def _():
        key = iam.create_access_key()["AccessKey"]
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                                       "Resource": ["arn:aws:s3:::compat", "arn:aws:s3:::compat/*"]}]}
        arn = iam.create_policy(PolicyName="compat-ro", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=key["AccessKeyId"], PolicyArn=arn)
        ro, _ = clients(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
        ro.get_object(Bucket="compat", Key="copy.txt")
        try:
            ro.put_object(Bucket="compat", Key="nope", Body=b"x")
            raise AssertionError("a read-only key wrote")
        except ClientError as e:
            assert code(e) == "AccessDenied", code(e)
        iam.detach_user_policy(UserName=key["AccessKeyId"], PolicyArn=arn)
        iam.delete_policy(PolicyArn=arn)
        iam.delete_access_key(AccessKeyId=key["AccessKeyId"])

    @check("a wrong secret is refused on S3 and on IAM")
    def _():
        bad_s3, bad_iam = clients(endpoint, ROOT_KEY, "wrong")
        for call in (lambda: bad_s3.list_buckets(), lambda: bad_iam.list_policies()):
            try:
                call()
                raise AssertionError("accepted a bad signature")
            except ClientError as e:
                assert code(e) == "SignatureDoesNotMatch", code(e)

    @check("default checksum settings (a checksum header over plain http) are accepted")
    def _():
        default_s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ROOT_KEY,
                                  aws_secret_access_key=ROOT_SECRET, region_name="auto",
                                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        default_s3.put_object(Bucket="compat", Key="checksummed", Body=b"x" * 10)
        assert s3.get_object(Bucket="compat", Key="checksummed")["Body"].read() == b"x" * 10

    @check("the AWS CLI: make a bucket, copy a file in and out, list, remove")
    def _():
        tmp = tempfile.mkdtemp()
        cli = aws_cli(endpoint, tmp)
        source = os.path.join(tmp, "hello.txt")
        with open(source, "w") as f:
            f.write("hello from the cli")
        cli("s3", "mb", "s3://cli-bucket")
        cli("s3", "cp", source, "s3://cli-bucket/dir/hello.txt")
        assert "dir/hello.txt" in cli("s3", "ls", "--recursive", "s3://cli-bucket")
        back = os.path.join(tmp, "back.txt")
        cli("s3", "cp", "s3://cli-bucket/dir/hello.txt", back)
        assert open(back).read() == "hello from the cli"
        cli("s3", "rb", "--force", "s3://cli-bucket")
        shutil.rmtree(tmp)

    @check("boto3 generate_presigned_url: GET reads, PUT writes, over plain http")
    def _():
        s3.put_object(Bucket="compat", Key="pre/get me.txt", Body=b"presigned get")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "compat", "Key": "pre/get me.txt"},
                                        ExpiresIn=300)
        assert fetch(url) == (200, b"presigned get"), fetch(url)
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "compat", "Key": "pre/put.txt"},
                                        ExpiresIn=300)
        status, body = fetch(url, "PUT", b"presigned put")
        assert status == 200, (status, body)
        assert s3.get_object(Bucket="compat", Key="pre/put.txt")["Body"].read() == b"presigned put"

    @check("boto3 presigned URLs: a changed key or expiry is refused 403")
    def _():
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "compat", "Key": "pre/get me.txt"},
                                        ExpiresIn=300)
        assert fetch(url.replace("pre/get%20me.txt", "copy.txt"))[0] == 403
        assert fetch(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"))[0] == 403

    @check("aws s3 presign: the URL reads the object")
    def _():
        s3.put_object(Bucket="compat", Key="pre/cli.txt", Body=b"cli presigned")
        tmp = tempfile.mkdtemp()
        url = aws_cli(endpoint, tmp)("s3", "presign", "s3://compat/pre/cli.txt", "--expires-in", "300").strip()
        shutil.rmtree(tmp)
        assert url.startswith(endpoint), url
        assert fetch(url) == (200, b"cli presigned"), fetch(url)

    passed = failed = 0
    try:
        for name, fn in checks:
            try:
                fn()
                passed += 1
                print(f"ok    {name}")
            except Exception as e:  # noqa: BLE001 - report every failure, keep going
                failed += 1
                print(f"FAIL  {name}: {type(e).__name__}: {e}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"compat: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
