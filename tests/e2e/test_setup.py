"""The two set-up commands on a fresh machine: `make demo` needs the package and the emulator only, and
`make test` needs bash but not dash (the dash round trips skip, saying so, where dash is absent)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_packaging import INSTALL_TIMEOUT, copy_tree, fresh_venv, pip_install
from tests.shells import NO_DASH

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
TOOLCHAIN = {"pytest", "hypothesis", "ruff", "mypy", "build", "pipx"}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_make_demo_installs_the_demo_extra_and_make_test_the_test_extra() -> None:
    assert not names(EXTRAS["demo"]) & TOOLCHAIN, "the demo needs no test tool"
    assert names(EXTRAS["test"]) >= TOOLCHAIN
    makefile = (ROOT / "Makefile").read_text()
    demo_stamp = re.search(r"^demo: (\S+)$", makefile, re.M)
    assert demo_stamp, "make demo depends on its own install step"
    recipe = makefile.split(f"\n{demo_stamp.group(1)}:")[1].split("\n\n")[0]
    assert "-e '.[demo]'" in recipe and "[test]" not in recipe


def test_the_demo_runs_with_only_the_demo_extra(tmp_path: Path) -> None:
    """examples/demo.py (emulator, push, run of the bot) in a fresh venv holding the package and the demo extra."""
    tree = copy_tree(tmp_path / "clone")
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, f"{tree}[demo]")
    p = subprocess.run([str(bin_dir / "python"), "examples/demo.py"], capture_output=True, text=True, cwd=tree,
                       timeout=INSTALL_TIMEOUT, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert "bot: OPENAI = sk-...34" in p.stdout
    missing = subprocess.run([str(bin_dir / "python"), "-c", "import pytest"], capture_output=True)
    assert missing.returncode != 0, "the test toolchain is not installed"


def test_no_test_names_a_shell_by_its_path() -> None:
    hard_coded = re.compile(r"['\"]/(usr/)?bin/(ba|da)?sh['\"]")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py") if hard_coded.search(p.read_text())]
    assert offenders == []


def test_without_dash_the_dash_round_trips_skip_and_say_why(tmp_path: Path) -> None:
    """PATH as it is, minus dash: the shell tests pass with bash and skip dash with the reason."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name != "dash" and not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(Path(folder) / name)
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/unit/test_formats.py",
         "-k", "exports_to_children or long_values_through"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env={**os.environ, "PATH": str(bin_dir)},
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"\b2 passed, 2 skipped\b", p.stdout), p.stdout
    assert NO_DASH in p.stdout


def test_ci_says_that_it_installs_dash_and_the_manual_says_so() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    install = re.search(r"^\s*apt-get .*install .*\bdash\b", ci, re.M)
    assert install, "CI installs dash, so the dash tests run there"
    assert re.search(r"^\s*echo .*\bdash\b", ci[: install.start()], re.M), "and says so in its log"
    page = " ".join((ROOT / "docs" / "getting-started.md").read_text().split())
    assert "bash is required, dash is optional" in page and "CI installs dash" in page
