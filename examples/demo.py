"""`make demo`: the seed scenario against a local Secrets Manager emulator on 127.0.0.1.

Starts moto_server, stores examples/apikeys.env as the secret APIKEYS with `envinject push`, runs
`envinject --secret APIKEYS -- python examples/bot.py` and stops the emulator. No real AWS account or network
is used.
"""

from __future__ import annotations

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
        print(f"demo: emulator on {emu.url}", flush=True)
        steps = [
            ("envinject push examples/apikeys.env --secret APIKEYS",
             [envinject, "push", str(ROOT / "examples" / "apikeys.env"), "--secret", "APIKEYS"]),
            ("envinject --secret APIKEYS -- python examples/bot.py",
             [envinject, "--secret", "APIKEYS", "--", sys.executable, str(ROOT / "examples" / "bot.py")]),
        ]  # fmt: skip
        for shown, cmd in steps:
            print(f"demo: $ {shown}", flush=True)
            status = subprocess.run(cmd, env=env, check=False).returncode
            if status:
                return status
        print(f"demo: done. envinject is {envinject}; `make try` opens a playground with every example's secrets")
        return 0


if __name__ == "__main__":
    sys.exit(main())
