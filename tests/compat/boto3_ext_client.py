"""The released tigris-boto3-ext (pinned by `cargo xtask compat`) against the tigris-emulator binary:
snapshots and forks through its header helpers, list_forks and get_bucket_metadata through its own
signed requests, presign (POST /?func=presign), live and pinned to a snapshot, and bucket settings
and account views (create_bucket options, update_bucket, get_bucket_metadata, list_buckets,
get_stats: `settings_checks`), and soft delete (deleted objects and buckets: list, restore,
purge, the setting: `soft_delete_checks`).

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

    settings_checks(s3, check)
    soft_delete_checks(check, s3)

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


def settings_checks(s3, check):
    """Bucket settings and account views: what update_bucket sets, get_bucket_metadata and
    list_buckets read back; get_stats sums the account; bad values fail before any request."""

    @check("settings: create_bucket with access, storage class, regions and public listing")
    def _():
        ext.create_bucket(s3, "py-set", access="public", default_storage_class="STANDARD_IA",
                          regions=["iad", "sjc"], public_list_objects=True)
        meta = ext.get_bucket_metadata(s3, "py-set")
        assert meta["storage_class"] == "STANDARD_IA", meta
        assert meta["regions"] == ["iad", "sjc"], meta
        assert meta["raw"]["acl_list_objects"] == "true", meta["raw"]
        page = ext.list_buckets(s3, include_visibility=True, include_regions=True)
        entry = next(b for b in page["buckets"] if b["name"] == "py-set")
        assert entry["visibility"] == "public" and entry["regions"] == ["iad", "sjc"], entry

    @check("settings: update_bucket changes only what it passes; metadata reads it back")
    def _():
        ext.update_bucket(s3, "py-set", default_storage_class="GLACIER_IR", regions="fra",
                          cache_control="max-age=60", custom_domain="cdn.example.com",
                          allow_object_acl=True, nosniff=True)
        ext.update_bucket(s3, "py-set", access="private", public_list_objects=False)
        meta = ext.get_bucket_metadata(s3, "py-set")
        assert meta["storage_class"] == "GLACIER_IR" and meta["regions"] == ["fra"], meta
        assert meta["cache_control"] == "max-age=60", meta
        assert meta["custom_domain"] == "cdn.example.com", meta
        assert meta["allow_object_acl"] is True, meta
        assert meta["raw"]["additional_http_headers"] == {"X-Content-Type-Options": "nosniff"}, meta["raw"]
        assert meta["raw"]["acl_list_objects"] == "false", meta["raw"]
        page = ext.list_buckets(s3, include_visibility=True)
        entry = next(b for b in page["buckets"] if b["name"] == "py-set")
        assert entry["visibility"] == "private", entry
        ext.update_bucket(s3, "py-set", regions=[], cache_control="", nosniff=False)
        meta = ext.get_bucket_metadata(s3, "py-set")
        assert meta["regions"] == [] and meta["cache_control"] is None, meta
        assert "additional_http_headers" not in meta["raw"], meta["raw"]
        assert meta["storage_class"] == "GLACIER_IR", meta

    @check("settings: an unknown region or a multi-region pair is a 400 InvalidArgument")
    def _():
        for regions in ("mars", ["usa", "eur"], ["iad", "iad"]):
            try:
                ext.update_bucket(s3, "py-set", regions=regions)
                raise AssertionError(f"accepted regions {regions!r}")
            except ext.TigrisAPIError as e:
                assert e.status_code == 400 and e.code == "InvalidArgument", (e.status_code, e.code)

    @check("settings: list_buckets with lineage, type and regions, paged; get_stats sums it")
    def _():
        page = ext.list_buckets(s3, include_type=True, include_fork_info=True, include_regions=True,
                                include_stats=True, max_buckets=2)
        names = [b["name"] for b in page["buckets"]]
        assert names == ["py-fork", "py-fork-2"], names
        assert page["buckets"][0]["snapshot_enabled"] is True, page["buckets"][0]
        assert page["buckets"][0]["fork_parents"][0]["bucket"] == "py-src", page["buckets"][0]
        assert page["buckets"][0]["regions"] == [], page["buckets"][0]
        assert page["stats"]["active_buckets"] == 2, page["stats"]
        assert page["continuation_token"], page
        rest = ext.list_buckets(s3, continuation_token=page["continuation_token"])
        assert [b["name"] for b in rest["buckets"]] == ["py-set", "py-src"], rest["buckets"]
        forks = ext.list_buckets(s3, only_forks=True)
        assert [b["name"] for b in forks["buckets"]] == ["py-fork", "py-fork-2"], forks["buckets"]
        stats = ext.get_stats(s3)
        assert stats["active_buckets"] == 4, stats
        src = ext.get_bucket_metadata(s3, "py-src", with_size=True)["size"]
        assert stats["total_storage_bytes"] >= src["bytes"] > 0, (stats, src)

    @check("settings: update_bucket(snapshot_enabled=...) switches the type; a fork refuses")
    def _():
        ext.update_bucket(s3, "py-set", snapshot_enabled=True)
        assert ext.get_bucket_metadata(s3, "py-set")["snapshot_enabled"] is True
        assert ext.get_bucket_info(s3, "py-set")["snapshot_enabled"] is True
        ext.update_bucket(s3, "py-set", snapshot_enabled=False)
        assert ext.get_bucket_metadata(s3, "py-set")["snapshot_enabled"] is False
        try:
            ext.update_bucket(s3, "py-fork", snapshot_enabled=False)
            raise AssertionError("turned off the snapshots of a fork")
        except ext.TigrisAPIError as e:
            assert e.status_code == 400 and e.code == "InvalidArgument", (e.status_code, e.code)

    @check("settings: bad arguments fail before any request")
    def _():
        for kwargs in ({}, {"default_storage_class": "standard"}, {"access": "everyone"},
                       {"nosniff": "yes"}):
            try:
                ext.update_bucket(s3, "py-set", **kwargs)
                raise AssertionError(f"accepted {kwargs!r}")
            except (ValueError, TypeError):
                pass

# --- soft delete (tigris-boto3-ext 0.4-0.7 soft-delete functions) -------------------------------

def soft_delete_checks(check, s3):
    """Soft delete: create with a retention, deleted views, restore, purge, the setting by PATCH,
    deleted buckets and their restore, and what a force delete does on a soft-delete bucket."""

    def deleted_versions(bucket):
        listed = ext.list_deleted_object_versions(s3, bucket)
        return [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed.get("Versions", [])]

    @check("soft delete: create_soft_delete_bucket(30) shows in get_bucket_metadata")
    def _():
        ext.create_soft_delete_bucket(s3, "py-soft", retention_days=30)
        meta = ext.get_bucket_metadata(s3, "py-soft")
        assert meta["soft_delete"] == {"enabled": True, "retention_days": 30}, meta["soft_delete"]

    @check("soft delete: a retention outside 7-90 is refused by the client")
    def _():
        for bad in (6, 91):
            try:
                ext.create_soft_delete_bucket(s3, "py-soft-bad", retention_days=bad)
                raise AssertionError(f"created with retention {bad}")
            except ValueError:
                pass

    @check("soft delete: list_deleted_objects / list_deleted_object_versions show only deletions")
    def _():
        for body in (b"one", b"two"):
            s3.put_object(Bucket="py-soft", Key="k.txt", Body=body)
            s3.delete_object(Bucket="py-soft", Key="k.txt")
        s3.put_object(Bucket="py-soft", Key="live.txt", Body=b"live")
        keys = [o["Key"] for o in ext.list_deleted_objects(s3, "py-soft").get("Contents", [])]
        assert keys == ["k.txt"], keys
        versions = deleted_versions("py-soft")
        assert len(versions) == 2 and versions[0][2] and not versions[1][2], versions

    @check("soft delete: restore_deleted_object by version, then the latest")
    def _():
        (_, newest, _), (_, oldest, _) = deleted_versions("py-soft")
        ext.restore_deleted_object(s3, "py-soft", "k.txt", version_id=oldest)
        assert s3.get_object(Bucket="py-soft", Key="k.txt")["Body"].read() == b"one"
        assert [v[1] for v in deleted_versions("py-soft")] == [newest]
        ext.restore_deleted_object(s3, "py-soft", "k.txt")
        assert s3.get_object(Bucket="py-soft", Key="k.txt")["Body"].read() == b"two"
        assert deleted_versions("py-soft") == []

    @check("soft delete: purge_deleted_object drops one deleted version")
    def _():
        s3.delete_object(Bucket="py-soft", Key="live.txt")
        [(_, version, _)] = deleted_versions("py-soft")
        ext.purge_deleted_object(s3, "py-soft", "live.txt", version)
        assert deleted_versions("py-soft") == []
        try:
            ext.restore_deleted_object(s3, "py-soft", "live.txt")
            raise AssertionError("restored a purged object")
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response

    @check("soft delete: set_bucket_soft_delete on a plain bucket, then off")
    def _():
        s3.create_bucket(Bucket="py-later")
        ext.set_bucket_soft_delete(s3, "py-later", True, retention_days=14)
        assert ext.get_bucket_metadata(s3, "py-later")["soft_delete"] == {"enabled": True, "retention_days": 14}
        s3.put_object(Bucket="py-later", Key="a", Body=b"a")
        s3.delete_object(Bucket="py-later", Key="a")
        assert [v[0] for v in deleted_versions("py-later")] == ["a"]
        ext.set_bucket_soft_delete(s3, "py-later", False)
        assert ext.get_bucket_metadata(s3, "py-later")["soft_delete"]["enabled"] is False

    @check("soft delete: force_delete_bucket keeps it restorable; restore_bucket brings it back")
    def _():
        ext.force_delete_bucket(s3, "py-soft")
        try:
            s3.head_bucket(Bucket="py-soft")
            raise AssertionError("bucket still live")
        except ClientError as e:
            assert e.response["Error"]["Code"] in ("404", "NoSuchBucket"), e.response["Error"]
        page = ext.list_deleted_buckets(s3)
        listed = [(b["name"], b["retention_days"]) for b in page["buckets"]]
        assert listed == [("py-soft", 30)], listed
        assert page["buckets"][0]["created_at"] is not None, page
        assert ext.restore_bucket(s3, "py-soft")["name"] == "py-soft"
        assert s3.get_object(Bucket="py-soft", Key="k.txt")["Body"].read() == b"two"
        assert ext.list_deleted_buckets(s3)["buckets"] == []

    @check("soft delete: restore_bucket of a live bucket is 400, of an unknown one 404")
    def _():
        for bucket, status in (("py-soft", 400), ("py-never", 404)):
            try:
                ext.restore_bucket(s3, bucket)
                raise AssertionError(f"restored {bucket}")
            except ext.TigrisAPIError as e:
                assert e.status_code == status, (bucket, e.status_code, e.code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
