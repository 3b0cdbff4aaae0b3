"""`make try`: a playground after the demo. A local Secrets Manager and Parameter Store emulator on 127.0.0.1,
holding every secret and parameter the documentation's examples use, a folder with the files they read, and a
shell with `envinject` on PATH and the emulator's settings set. Leave the shell (exit, or Ctrl-D) and the
emulator stops. No real AWS account or network is used.

    python examples/playground.py                # the shell ($SHELL, else bash)
    python examples/playground.py --print        # only print the settings to paste, then wait for Ctrl-C
    python examples/playground.py -- CMD [ARGS]  # run one command in the playground, then stop
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import world  # noqa: E402
from tests.emulator import moto_server  # noqa: E402


def main(argv: list[str]) -> int:
    bin_dir = Path(sys.executable).parent
    with moto_server() as emu, tempfile.TemporaryDirectory(prefix="envinject-playground-") as tmp:
        folder = Path(tmp) / "work"
        folder.mkdir()
        home = Path(tmp) / "home"
        home.mkdir()
        world.seed(emu.url)
        world.write_files(folder)
        env = world.environment(emu.env(), bin_dir, home, Path(tmp) / "github_env")
        if argv[:1] == ["--"]:
            return subprocess.run(argv[1:], cwd=folder, env=env, check=False).returncode
        names = ", ".join(world.SECRETS)
        print(f"playground: emulator on {emu.url} with secrets {names} and parameters under /myapp/prod/")
        print(f"playground: files in {folder}: {', '.join(sorted(os.listdir(folder)))}")
        settings = {k: v for k, v in env.items() if k != "HOME"}
        if argv[:1] == ["--print"] or not sys.stdin.isatty():
            print("playground: paste these lines into another shell, then try the examples; Ctrl-C here stops it")
            for name, value in settings.items():
                print(f"export {name}={shlex.quote(value)}")
            print(f"cd {shlex.quote(str(folder))}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        print("playground: a shell with envinject on PATH; try `envinject -s APIKEYS -- python bot.py`. "
              "exit (or Ctrl-D) stops the emulator.", flush=True)  # fmt: skip
        shell = os.environ.get("SHELL") or "bash"
        shell_env = {**os.environ, **settings, "ENVINJECT_PLAYGROUND": emu.url}
        # Ctrl-C belongs to the shell and what it runs; the playground ends when the shell does.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.run(
                [shell], cwd=folder, env=shell_env, check=False, preexec_fn=_default_sigint
            ).returncode
        finally:
            signal.signal(signal.SIGINT, previous)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
