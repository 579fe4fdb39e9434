"""Runs ceph/s3-tests (s3tests/functional/test_s3.py) against the tigris-emulator binary, and
optionally against moto_server, and writes docs/s3-compatibility.md.

Driven by `cargo xtask s3-tests DIR`; not meant to be run by hand, but it can be:

    python run.py --suite DIR --emulator PATH --out FILE [--moto] [-k EXPR]

The main user is the emulator's root key; the alt and tenant users are access keys made through
the emulator's IAM, each with an `s3:*` policy (on Tigris every key is a user of one account).
Each user's display_name and user_id in the suite's config are the owner the server names to
that user's key in ListBuckets (on the emulator: the one account, for every key).
Each test gets a fresh bucket prefix (fresh_prefix.py), so one bucket a test cannot delete does
not fail every later test.
"""

import argparse
import collections
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT_KEY, ROOT_SECRET = "tid_s3tests_root", "tsec_s3tests_root_secret"

# The selection: everything but what no local server can be asked for (logging, lifecycle
# expiry and transitions, cloud tiers, server-side encryption, IAM account and user APIs).
MARKERS = (
    "not fails_on_aws and not lifecycle_expiration and not lifecycle_transition and not "
    "cloud_transition and not cloud_restore and not target_by_bucket and not bucket_logging and "
    "not bucket_logging_cleanup and not fails_without_logging_rollover and not encryption and "
    "not sse_s3 and not bucket_encryption and not iam_account and not iam_user"
)

# Operation families, first match wins; the rest is "objects (put, get, head, delete)".
FAMILIES = [
    ("object lock", r"object_lock|_lock_|retention|legal_hold"),
    ("versioning", r"version|delete_marker"),
    ("POST object (browser forms)", r"post_object"),
    ("multipart uploads", r"multipart|upload_part"),
    ("copy", r"copy"),
    ("tagging", r"_tag|tagging|tags"),
    ("CORS", r"cors"),
    ("bucket policies", r"policy"),
    ("ACLs, ownership, public access", r"acl|public|anon|ownership|access_bucket|grant"),
    ("lifecycle", r"lifecycle"),
    ("checksums", r"checksum|md5"),
    ("conditional requests", r"_if_|ifmatch|ifnonematch|if_match|if_none|modified"),
    ("listing objects", r"bucket_list|listv2|list_objects|key_count|bucketv2_list"),
    ("presigned URLs and authentication", r"presign|x_amz_expires|auth|signature"),
    ("ranged reads", r"range"),
    ("buckets (create, delete, head, list)", r"bucket_create|bucket_delete|bucket_head|create_bucket|"
     r"bucket_recreate|list_buckets|location|bucket_name|put_bucket|bucket_notexist|head_bucket"),
]
OTHER = "objects (put, get, head, delete, metadata)"


def family(test):
    for name, pattern in FAMILIES:
        if re.search(pattern, test):
            return name
    return OTHER


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(binary, log):
    proc = subprocess.Popen(
        [binary, "--port", "0", "--access-key", ROOT_KEY, "--secret-key", ROOT_SECRET],
        stdout=subprocess.PIPE, stderr=log, text=True)
    for line in proc.stdout:
        if line.startswith("ready: "):
            return proc, line.split(" ", 1)[1].strip()
    proc.kill()
    raise SystemExit("the emulator did not print its ready line")


def start_moto(binary, log):
    port = free_port()
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start listening")


def s3_star_key(endpoint, name):
    """An access key made through IAM with an s3:* policy: the alt and tenant users."""
    iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id=ROOT_KEY,
                       aws_secret_access_key=ROOT_SECRET, region_name="auto",
                       config=Config(retries={"max_attempts": 1}))
    key = iam.create_access_key()["AccessKey"]
    doc = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}]}
    arn = iam.create_policy(PolicyName=f"s3tests-{name}", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=key["AccessKeyId"], PolicyArn=arn)
    return key["AccessKeyId"], key["SecretAccessKey"]


def owner_of(endpoint, key, fallback):
    """The owner the server reports to `key` (ListBuckets): the suite compares ACL grants and
    owners with each user's display_name and user_id. On Tigris (and the emulator) every key is
    a user of one account, which owns everything; a server naming no owner gets `fallback`
    and the key's id."""
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key[0],
                      aws_secret_access_key=key[1], region_name="auto",
                      config=Config(retries={"max_attempts": 1}))
    owner = s3.list_buckets().get("Owner", {})
    return owner.get("DisplayName") or fallback, owner.get("ID") or key[0]


def write_conf(path, endpoint, main, alt, tenant):
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)

    def user(section, key, name, extra=""):
        display, user_id = owner_of(endpoint, key, name)
        return (f"[{section}]\naccess_key = {key[0]}\nsecret_key = {key[1]}\n"
                f"display_name = {display}\nuser_id = {user_id}\nemail = {name}@example.com\n{extra}")

    with open(path, "w") as f:
        f.write(f"[DEFAULT]\nhost = {host}\nport = {port}\nis_secure = False\nssl_verify = False\n\n")
        f.write("[fixtures]\nbucket prefix = s3t-{random}-\n\n")
        f.write(user("s3 main", main, "main", "api_name = auto\n") + "\n")
        f.write(user("s3 alt", alt, "alt") + "\n")
        f.write(user("s3 tenant", tenant, "tenant", "tenant = tenant\n") + "\n")
        # Sections the suite's configure() reads; the IAM tests are outside the selection.
        f.write(user("iam", main, "iam") + "\n")
        f.write(f"[iam root]\naccess_key = {main[0]}\nsecret_key = {main[1]}\nuser_id = root\nemail = root@example.com\n\n")
        f.write(f"[iam alt root]\naccess_key = {alt[0]}\nsecret_key = {alt[1]}\nuser_id = altroot\nemail = altroot@example.com\n")


def run_suite(python, suite, conf, junit, keyword, log):
    env = dict(os.environ, S3TEST_CONF=conf, PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1")
    args = [python, "-m", "pytest", "s3tests/functional/test_s3.py", "-p", "fresh_prefix",
            "-m", MARKERS, "-q", "-p", "no:cacheprovider", "--junitxml", junit]
    if keyword:
        args += ["-k", keyword]
    subprocess.run(args, cwd=suite, env=env, stdout=log, stderr=log)
    return parse_junit(junit)


def parse_junit(path):
    """test name -> (passed, answered 501 NotImplemented, first line of the failure)."""
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
        text = " ".join((c.get("message") or "") + (c.text or "") for c in bad)
        not_implemented = "NotImplemented" in text or "501" in re.findall(r"\b501\b", text)
        first = next((c.get("message") or "" for c in bad), "").splitlines()
        results[name] = (not bad, not_implemented, first[0][:160] if first else "")
    return results


def suite_commit(suite):
    out = subprocess.run(["git", "-C", suite, "rev-parse", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown (not a git checkout)"


def gateway_list():
    with open(os.path.join(HERE, "tigris-gateway-tests.txt")) as f:
        return {l.strip() for l in f if l.strip() and not l.startswith("#")}


def write_doc(out, emu, moto, commit, keyword, profile):
    gateway = gateway_list()
    names = sorted(emu)
    by_family = collections.OrderedDict((f, []) for f, _ in FAMILIES)
    by_family[OTHER] = []
    for name in names:
        by_family[family(name)].append(name)
    in_gateway = [n for n in names if n in gateway]
    passed = sum(emu[n][0] for n in names)
    lines = [
        "# S3 compatibility: ceph/s3-tests",
        "",
        "Generated by `cargo xtask s3-tests DIR` (DIR: a checkout of "
        "[ceph/s3-tests](https://github.com/ceph/s3-tests)); do not edit by hand.",
        "",
        f"- Date: {datetime.date.today().isoformat()}; suite commit `{commit}`",
        f"- Selection: `s3tests/functional/test_s3.py -m \"{MARKERS}\"`"
        + (f" `-k \"{keyword}\"`" if keyword else ""),
        f"- Emulator: the {profile} build of the tigris-emulator binary, in memory.",
        "- Main user: the emulator's root key; alt and tenant users: access keys made through the "
        "emulator's IAM, each with an `s3:*` policy; each user's display name and user id are the "
        "owner ListBuckets names to its key. Every test has a fresh bucket prefix.",
        f"- **tigris-emulator: {passed} of {len(names)} passed**"
        + (f"; moto_server: {sum(moto[n][0] for n in names if n in moto)} of {len(names)}" if moto else ""),
        f"- Tests Tigris's own gateway runs against real Tigris (github.com/tigrisdata/tag, "
        f"`tests/s3compat`), in this selection: **{sum(emu[n][0] for n in in_gateway)} of {len(in_gateway)} pass**",
        "",
        "| operation family | tigris-emulator | of which 501 (not offered by Tigris) |"
        + (" moto_server |" if moto else ""),
        "|---|---|---|" + ("---|" if moto else ""),
    ]
    for fam, tests in by_family.items():
        if not tests:
            continue
        ok = sum(emu[t][0] for t in tests)
        ni = sum(1 for t in tests if not emu[t][0] and emu[t][1])
        row = f"| {fam} | {ok} / {len(tests)} | {ni or ''} |"
        if moto:
            row += f" {sum(moto.get(t, (False,))[0] for t in tests)} / {len(tests)} |"
        lines.append(row)
    lines += ["", "A 501 answer is `NotImplemented`: an S3 operation Tigris does not offer (see the "
              "emulator's README for the list).", "", "## Failing tests", "",
              "| test | family | gateway list | first line of the failure |", "|---|---|---|---|"]
    for n in names:
        if not emu[n][0]:
            msg = emu[n][2].replace("|", "\\|")
            lines.append(f"| `{n}` | {family(n)} | {'yes' if n in gateway else ''} | {msg} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"tigris-emulator: {passed}/{len(names)} passed; gateway list "
          f"{sum(emu[n][0] for n in in_gateway)}/{len(in_gateway)}"
          + (f"; moto: {sum(moto[n][0] for n in names if n in moto)}/{len(names)}" if moto else ""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--suite", required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--work", required=True, help="directory for logs, config and JUnit files")
    p.add_argument("--moto", action="store_true")
    p.add_argument("-k", dest="keyword")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    python = sys.executable

    with open(os.path.join(a.work, "emulator.log"), "w") as log:
        proc, endpoint = start_emulator(a.emulator, log)
        try:
            main_key = (ROOT_KEY, ROOT_SECRET)
            conf = os.path.join(a.work, "emulator.conf")
            write_conf(conf, endpoint, main_key, s3_star_key(endpoint, "alt"), s3_star_key(endpoint, "tenant"))
            with open(os.path.join(a.work, "emulator-pytest.log"), "w") as plog:
                emu = run_suite(python, a.suite, conf, os.path.join(a.work, "emulator.xml"), a.keyword, plog)
        finally:
            proc.terminate()
            proc.wait()

    moto = None
    if a.moto:
        moto_bin = os.path.join(os.path.dirname(python), "moto_server")
        with open(os.path.join(a.work, "moto.log"), "w") as log:
            proc, endpoint = start_moto(moto_bin, log)
            try:
                conf = os.path.join(a.work, "moto.conf")
                write_conf(conf, endpoint, (ROOT_KEY, ROOT_SECRET), ("AKIAALTUSER000000001", "altsecret"),
                           ("AKIATENANT0000000001", "tenantsecret"))
                with open(os.path.join(a.work, "moto-pytest.log"), "w") as plog:
                    moto = run_suite(python, a.suite, conf, os.path.join(a.work, "moto.xml"), a.keyword, plog)
            finally:
                proc.terminate()
                proc.wait()

    else:
        # moto's answers do not depend on the emulator: a full earlier run's are reused.
        earlier = os.path.join(a.work, "moto.xml")
        if not a.keyword and os.path.exists(earlier):
            moto = parse_junit(earlier)
            if len(moto) < len(emu):
                moto = None

    profile = os.path.basename(os.path.dirname(os.path.abspath(a.emulator)))
    write_doc(a.out, emu, moto, suite_commit(a.suite), a.keyword, profile)


if __name__ == "__main__":
    main()
