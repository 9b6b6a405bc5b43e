"""Constructing SDK clients: the cost paid when a client is built per request.

No request is sent: every client gets dummy credentials and points at
loopback, so only construction is timed. Covers openai.OpenAI and
anthropic.Anthropic (each builds an httpx client and TLS context),
boto3.client('s3') / boto3.resource('s3') (load the service model; timed
with a fresh Session each time, as a module-level boto3.client call does
on first use, and with a reused Session), grpc.insecure_channel,
pymongo.MongoClient (starts monitor threads; no server listening) and
urllib3.PoolManager. Each SDK is skipped when not installed.
"""

import os

from _common import free_port, summary, time_calls, version_of, write_results

# Never let an SDK look for real credentials or a metadata service.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "calibration",
    "AWS_SECRET_ACCESS_KEY": "calibration",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
})
for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY"):
    os.environ.pop(var, None)

N = 30


def main() -> None:
    rows = []
    skipped = []
    port = free_port()  # nothing listens here

    try:
        import openai
        def make_openai():
            openai.OpenAI(api_key="sk-calibration", base_url=f"http://127.0.0.1:{port}/v1").close()
        rows.append(summary("openai.OpenAI() construct + close", time_calls(make_openai, N)))

        def make_async_openai():
            openai.AsyncOpenAI(api_key="sk-calibration", base_url=f"http://127.0.0.1:{port}/v1")
        rows.append(summary("openai.AsyncOpenAI() construct", time_calls(make_async_openai, N)))
    except ImportError:
        skipped.append("openai")

    try:
        import anthropic
        def make_anthropic():
            anthropic.Anthropic(api_key="calibration", base_url=f"http://127.0.0.1:{port}").close()
        rows.append(summary("anthropic.Anthropic() construct + close", time_calls(make_anthropic, N)))
    except ImportError:
        skipped.append("anthropic")

    try:
        import boto3
        import boto3.session
        endpoint = f"http://127.0.0.1:{port}"
        rows.append(summary("boto3.client('s3') (new Session each call)",
                            time_calls(lambda: boto3.session.Session().client(
                                "s3", endpoint_url=endpoint), N)))
        sess = boto3.session.Session()
        rows.append(summary("boto3 Session.client('s3') (reused Session)",
                            time_calls(lambda: sess.client("s3", endpoint_url=endpoint), N)))
        rows.append(summary("boto3.client('dynamodb') (new Session each call)",
                            time_calls(lambda: boto3.session.Session().client(
                                "dynamodb", endpoint_url=endpoint), N)))
        rows.append(summary("boto3.resource('s3') (new Session each call)",
                            time_calls(lambda: boto3.session.Session().resource(
                                "s3", endpoint_url=endpoint), N)))
        rows.append(summary("boto3.session.Session()",
                            time_calls(boto3.session.Session, N)))
    except ImportError:
        skipped.append("boto3")

    try:
        import grpc
        def make_channel():
            grpc.insecure_channel(f"127.0.0.1:{port}").close()
        rows.append(summary("grpc.insecure_channel() + close", time_calls(make_channel, N * 3)))
    except ImportError:
        skipped.append("grpcio")

    try:
        import pymongo
        def make_mongo():
            pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=100,
                                connect=True).close()
        rows.append(summary("pymongo.MongoClient() construct + close (no server)",
                            time_calls(make_mongo, N)))
    except ImportError:
        skipped.append("pymongo")

    try:
        import urllib3
        rows.append(summary("urllib3.PoolManager() construct",
                            time_calls(lambda: urllib3.PoolManager(), N * 3)))
    except ImportError:
        skipped.append("urllib3")

    write_results(__file__, rows,
                  notes="construction only, dummy credentials, no request sent; not installed: "
                        + (", ".join(skipped) or "none"),
                  versions={d: version_of(d) for d in
                            ("openai", "anthropic", "boto3", "grpcio", "pymongo", "urllib3")})


if __name__ == "__main__":
    main()
