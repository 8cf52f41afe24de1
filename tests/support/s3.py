"""S3 for tests: a moto server over real HTTP on 127.0.0.1, and a fresh bucket per test.

Pieces for a test module's own fixtures (root conftest is not ours to extend), e.g.

    @pytest.fixture(scope="session")
    def moto_endpoint() -> Iterator[str]:
        with moto_server() as endpoint:
            yield endpoint

and a fresh bucket per test (`new_bucket`) to keep tests apart on one server.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Dummy credentials: moto accepts anything; real ones must never reach a test.
TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_client(endpoint: str) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=TEST_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=TEST_ENV["AWS_DEFAULT_REGION"],
    )


def new_bucket(client: S3Client, *, object_lock: bool = False) -> str:
    name = f"aip-test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    return name


def s3_env(endpoint: str, bucket: str, prefix: str = "", **extra: str) -> dict[str, str]:
    """The environment `store_from_env` needs to reach `bucket` on the test server."""
    url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    return {**TEST_ENV, "AIP_STORAGE_URL": url, "AIP_S3_ENDPOINT_URL": endpoint, **extra}


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 and a port the OS picks; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def s3_client_for(endpoint: str) -> Iterator[S3Client]:
    client = make_client(endpoint)
    try:
        yield client
    finally:
        client.close()
