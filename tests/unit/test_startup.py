"""What a start imports, checked in sys.modules of a real process, not timed: --version and --help must not pay
for botocore; a run of one secret must not pay for typer, policies, env files or a thread pool."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

PROBE = """
import sys
from envinject.entry import main
sys.argv = ["envinject", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("botocore", "boto3", "rich", "dotenv", "tomllib"))
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["run", "--help"], ["export", "--help"]])
def test_no_botocore_rich_or_parsers_at_start(args: list[str]) -> None:
    r = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, check=True)
    assert "HEAVY:\n" in r.stderr, r.stderr


#: Runs envinject with exec replaced by a report of what was imported and whether the cyclic GC ran.
RUN_PROBE = """
import gc, json, os, sys

def report(*_args):
    print(json.dumps({{"modules": sorted(sys.modules), "gc": gc.isenabled()}}))
    sys.stdout.flush()
    os._exit(0)

os.execve = os.execvpe = report
from envinject.entry import main
sys.argv = ["envinject", *{args!r}]
try:
    main()
except SystemExit as e:
    report()
"""
#: Loaded by a run that does not use them: the CLI framework, IAM policies, the env-file parser (python-dotenv;
#: envinject.rules.envfile itself reads references in the environment on every run), threads for one request, and
#: where template tags stand (only a rendered file needs it).
UNUSED = (
    "typer",
    "click",
    "envinject.cli",
    "envinject.commands.policy",
    "dotenv",
    "concurrent.futures.thread",
    "envinject.rules.contexts",
)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A loopback endpoint that gives any GetSecretValue one small JSON secret."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"Name": "APP", "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:APP",
                               "VersionId": "v1", "SecretString": '{"token": "t0ken-value"}'}).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _probe(args: list[str], endpoint: str, tmp_path: Any) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}  # fmt: skip
    r = subprocess.run(
        [sys.executable, "-c", RUN_PROBE.format(args=args)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    found: dict[str, Any] = json.loads(r.stdout.splitlines()[-1])
    return found


def test_one_secret_run_imports_only_what_it_uses(endpoint: str, tmp_path: Any) -> None:
    found = _probe(["-s", "APP", "--", "true"], endpoint, tmp_path)
    assert "envinject.commands.run" in found["modules"]  # it did run
    assert [m for m in UNUSED if m in found["modules"]] == []
    assert found["gc"] is False  # off until exec


def test_one_secret_dry_run_imports_no_policy_env_file_parser_or_thread_pool(endpoint: str, tmp_path: Any) -> None:
    found = _probe(["-s", "APP", "--dry-run", "--", "true"], endpoint, tmp_path)  # through typer
    assert "envinject.cli" in found["modules"]
    assert [m for m in UNUSED[3:] if m in found["modules"]] == []
