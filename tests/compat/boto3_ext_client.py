"""The released tigris-boto3-ext (pinned by `cargo xtask compat`) against the tigris-emulator binary:
snapshots and forks through its header helpers, list_forks and get_bucket_metadata through its own
signed requests, and presign (POST /?func=presign), live and pinned to a snapshot.

Usage: python boto3_ext_client.py PATH-TO-tigris-emulator
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.
"""

import gzip
import io
import json
import sys
import tarfile

import tigris_boto3_ext as ext
from botocore.exceptions import ClientError

from python_clients import clients, fetch, start


def main(binary):
    proc, endpoint = start(binary)
    s3, _ = clients(endpoint)
    checks = []
    state = {}

    def check(name):
        def wrap(fn):
            checks.append((name, fn))
            return fn
        return wrap

    @check("create_snapshot_bucket, create_snapshot (named), create_fork at the snapshot")
    def _():
        ext.create_snapshot_bucket(s3, "py-src")
        s3.put_object(Bucket="py-src", Key="k.txt", Body=b"v1")
        version = ext.get_snapshot_version(ext.create_snapshot(s3, "py-src", snapshot_name="first"))
        assert version and version.isdigit(), version
        state["version"] = version
        s3.put_object(Bucket="py-src", Key="k.txt", Body=b"v2")
        ext.create_fork(s3, "py-fork", "py-src", snapshot_version=version)
        assert s3.get_object(Bucket="py-fork", Key="k.txt")["Body"].read() == b"v1"

    @check("list_forks: the fork, its parent and snapshot, paged")
    def _():
        ext.create_fork(s3, "py-fork-2", "py-src")
        page = ext.list_forks(s3, "py-src")
        names = [b["name"] for b in page["buckets"]]
        assert names == ["py-fork", "py-fork-2"], names
        parent = page["buckets"][0]["fork_parents"][0]
        assert parent["bucket"] == "py-src", parent
        assert parent["snapshot"] == state["version"], parent
        assert parent["snapshot_name"] == "first", parent
        assert parent["forked_at"] is not None, parent
        first = ext.list_forks(s3, "py-src", max_buckets=1)
        assert len(first["buckets"]) == 1 and first["continuation_token"], first
        second = ext.list_forks(s3, "py-src", max_buckets=1, continuation_token=first["continuation_token"])
        assert [b["name"] for b in second["buckets"]] == ["py-fork-2"], second
        assert ext.list_forks(s3, "py-fork")["buckets"] == []

    @check("list_forks of an unknown bucket is AccessDenied")
    def _():
        try:
            ext.list_forks(s3, "no-such-bucket")
            raise AssertionError("listed the forks of a missing bucket")
        except ext.TigrisAPIError as e:
            assert e.status_code == 403 and e.code == "AccessDenied", (e.status_code, e.code)

    @check("get_bucket_metadata: snapshot type, fork parents, size")
    def _():
        src = ext.get_bucket_metadata(s3, "py-src", with_size=True)
        assert src["snapshot_enabled"] is True, src
        assert src["is_fork_parent"] is True, src
        assert src["regions"] == [], src
        assert src["size"]["objects"] == 1, src["size"]
        fork = ext.get_bucket_metadata(s3, "py-fork")
        parent = fork["fork_parents"][0]
        assert parent["bucket"] == "py-src" and parent["snapshot"] == state["version"], parent
        assert fork["size"] is None, fork

    @check("presign: get and put URLs work with urllib")
    def _():
        link = ext.presign(s3, "py-src", "k.txt", expires_in=600)
        assert link["expires_in"] == 600 and link["custom_domain_url"] is None, link
        assert fetch(link["url"]) == (200, b"v2"), fetch(link["url"])
        up = ext.presign(s3, "py-src", "up.txt", "put")
        status, body = fetch(up["url"], "PUT", b"uploaded")
        assert status == 200, (status, body)
        assert s3.get_object(Bucket="py-src", Key="up.txt")["Body"].read() == b"uploaded"

    @check("presign with snapshot_version reads the object as it was")
    def _():
        link = ext.presign(s3, "py-src", "k.txt", snapshot_version=state["version"])
        assert link["version_id"], link
        assert fetch(link["url"]) == (200, b"v1"), fetch(link["url"])

    @check("presign with snapshot_version of a key that did not exist then is a 404")
    def _():
        try:
            ext.presign(s3, "py-src", "up.txt", snapshot_version=state["version"])
            raise AssertionError("presigned a key missing at the snapshot")
        except ClientError as e:
            assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e.response["Error"]

    def bundle_members(response, compression="none"):
        raw = response.body.read()
        if compression == "gzip":
            raw = gzip.decompress(raw)
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            return [(m.name, tar.extractfile(m).read()) for m in tar]

    @check("bundle_objects: entries in request order and the skip report")
    def _():
        s3.put_object(Bucket="py-src", Key="b/one.txt", Body=b"one")
        long_key = "deep/" * 40 + "long.txt"
        s3.put_object(Bucket="py-src", Key=long_key, Body=b"long")
        response = ext.bundle_objects(s3, "py-src", ["b/one.txt", "nope", long_key])
        members = bundle_members(response)
        names = [name for name, _ in members]
        assert names == ["b/one.txt", long_key, "__bundle_errors.json"], names
        assert members[0][1] == b"one" and members[1][1] == b"long", members
        report = json.loads(members[2][1])
        assert report == {"skipped": [{"key": "nope", "reason": "NoSuchKey"}]}, report

    @check("bundle_objects with gzip compression")
    def _():
        response = ext.bundle_objects(s3, "py-src", ["b/one.txt"], compression="gzip")
        assert bundle_members(response, "gzip") == [("b/one.txt", b"one")]

    @check("bundle_objects in fail mode: BundleError 404 BundleKeyNotFound")
    def _():
        try:
            ext.bundle_objects(s3, "py-src", ["b/one.txt", "gone"], on_error="fail")
            raise AssertionError("fail mode served a bundle with a missing key")
        except ext.BundleError as e:
            assert e.status_code == 404, e.status_code
            assert "BundleKeyNotFound" in e.body and "<Key>gone</Key>" in e.body, e.body

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
    print(f"compat (tigris-boto3-ext): {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
