"""pytest plugin: a fresh bucket prefix for every s3-tests test.

The suite picks one prefix per run and wipes buckets with it before and after each test; a bucket
one test cannot delete would then fail every later test. Loaded with `-p fresh_prefix`.
"""

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    import s3tests.functional as functional

    if functional.prefix is not None:
        functional.prefix = functional.choose_bucket_prefix("s3t-{random}-")
