"""Shell completion scripts, produced by typer for the installed command."""

import os
import subprocess

import pytest

from tests.e2e.conftest import ENVINJECT


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o default -F _envinject_completion envinject"),
                                               ("zsh", "#compdef envinject")])  # fmt: skip
def test_completion_script(shell: str, marker: str) -> None:
    # typer guesses the shell from the parent process unless told not to; then --show-completion takes one.
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    r = subprocess.run([ENVINJECT, f"--show-completion={shell}"], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert marker in r.stdout
