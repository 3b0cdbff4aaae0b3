"""`make demo`: the seed scenario against a local Secrets Manager emulator on 127.0.0.1.

Starts moto_server, stores the APIKEYS secret, runs `envinject --secret APIKEYS -- python examples/bot.py`
and stops the emulator. No real AWS account or network is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emulator import moto_server  # noqa: E402


def main() -> int:
    envinject = str(Path(sys.executable).with_name("envinject"))
    with moto_server() as emu:
        env = {**os.environ, **emu.env()}
        import boto3

        client = boto3.client(
            "secretsmanager",
            endpoint_url=emu.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_secret(
            Name="APIKEYS",
            SecretString=json.dumps({"openai": "sk-demo-openai-1234", "anthropic": "sk-ant-demo-5678"}),
        )
        print(f"demo: emulator on {emu.url}, secret APIKEYS stored", flush=True)
        cmd = [envinject, "--secret", "APIKEYS", "--", sys.executable, str(ROOT / "examples" / "bot.py")]
        print("demo: $ envinject --secret APIKEYS -- python examples/bot.py", flush=True)
        return subprocess.run(cmd, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
