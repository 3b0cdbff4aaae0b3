"""Every code block of the README and the manual (docs/) marked runnable runs, so the documentation cannot rot.

A block is marked by an HTML comment on the line just before its opening fence (GitHub does not show it):

    <!-- runnable -->        the block is run: ```sh, ```bash or ```console (only its `$ ` lines) with
                             `bash -euo pipefail`, ```python with `python`
    <!-- file: NAME -->      the block is the file NAME, written into the folder each runnable block runs in

Each runnable block is one test case. It runs in a fresh folder against a freshly reset moto_server on
127.0.0.1, with the installed `envinject` and the virtualenv's `python` first on PATH, and must exit 0. What
the blocks assume exists (secrets, parameters, files) is set up by the ``readme_world`` fixture below; the
`bot.py` they run is the shipped examples/bot.py, which fails unless it gets OPENAI and ANTHROPIC. Blocks
that need what no test has (a real AWS account, the AWS CLI, docker, PyPI) and `make demo` / `make test`
(which would run this test again) are left unmarked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import world
from tests.e2e.conftest import ENVINJECT
from tests.emulator import Emulator
from tests.world import AT_LEAST, INTERPRETERS, RUNNABLE, Block, doc_blocks, parse

ROOT = Path(__file__).parents[2]

BLOCKS, FILES = doc_blocks()


@pytest.fixture
def readme_world(sm: Any, emulator: Emulator, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The playground (``make try``) on a freshly reset emulator: its secrets, parameters and files
    (tests/world.py), and its environment. Returns the folder to run in and the environment to run with."""
    world.seed(emulator.url)
    home = tmp_path / "home"
    home.mkdir()
    cwd = tmp_path / "work"
    cwd.mkdir()
    world.write_files(cwd)
    env = world.environment(emulator.env(), Path(ENVINJECT).parent, home, tmp_path / "github_env")
    return cwd, env


def writes_itself(block: Block) -> set[str]:
    return set(re.findall(r"-o (\S+)", block.code))


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs(block: Block, readme_world: tuple[Path, dict[str, str]]) -> None:
    cwd, env = readme_world
    for name in writes_itself(block) & set(os.listdir(cwd)):
        (cwd / name).unlink()
    if INTERPRETERS[block.language] == "bash":
        argv = ["bash", "-euo", "pipefail", "-c", block.code]
    else:
        argv = ["python", "-c", block.code]
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (
        f"documentation block {block.id} exited {p.returncode}:\n{block.code}\n{p.stdout}{p.stderr}"
    )
    assert "Traceback" not in p.stderr, p.stderr


def test_no_marked_block_is_skipped() -> None:
    """Every marker line, however spelled, became a case (a marker inside a code block or a misspelt one
    fails here), and the count has not dropped."""
    lines = [line for doc in world.DOCS for line in doc.read_text().splitlines()]
    markers = [line for line in lines if re.fullmatch(r"\s*<!--\s*runnable\s*-->\s*", line, re.I)]
    assert len(markers) == len(BLOCKS) >= AT_LEAST
    assert len({b.id for b in BLOCKS}) == len(BLOCKS)
    files = [line for line in lines if re.fullmatch(r"\s*<!--\s*file:.*-->\s*", line, re.I)]
    assert len(files) == len(FILES) >= 1


def test_the_blocks_use_this_virtualenv(readme_world: tuple[Path, dict[str, str]]) -> None:
    cwd, env = readme_world
    p = subprocess.run(["bash", "-c", "command -v envinject python"], cwd=cwd, env=env, capture_output=True, text=True)
    assert p.stdout.split() == [ENVINJECT, str(Path(ENVINJECT).with_name("python"))]
    p = subprocess.run(["python", "-c", "import sys; print(sys.prefix)"], env=env, capture_output=True, text=True)
    assert p.stdout.strip() == sys.prefix


def test_the_bot_fails_without_injected_variables(readme_world: tuple[Path, dict[str, str]]) -> None:
    cwd, env = readme_world
    assert subprocess.run(["python", "bot.py"], cwd=cwd, env=env, capture_output=True).returncode == 1
    p = subprocess.run(["bash", "-c", "envinject -s APIKEYS -- python bot.py"], cwd=cwd, env=env,
                       capture_output=True, text=True)  # fmt: skip
    assert p.stdout == "bot: OPENAI = sk-...34\nbot: ANTHROPIC = sk-...78\n", p.stderr


def test_the_env_file_example_gives_the_bot_what_it_reads(readme_world: tuple[Path, dict[str, str]]) -> None:
    cwd, env = readme_world
    p = subprocess.run(["bash", "-c", "envinject --env-file app.env -- python bot.py"], cwd=cwd, env=env,
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stdout == "bot: OPENAI = sk-...34\nbot: ANTHROPIC = sk-...78\n"


@pytest.mark.parametrize(("fence", "example"), [("dockerfile", "Dockerfile"), ("yaml", "github-actions.yml")])
def test_container_and_ci_lines_are_the_tested_examples(fence: str, example: str) -> None:
    """The documentation's Dockerfile and workflow lines need docker or GitHub to run; tests/e2e/test_examples.py
    runs the example files they are taken from (a page that shows a whole example includes the file itself)."""
    text = "".join(doc.read_text() for doc in world.DOCS)
    blocks = [part.split("```")[0] for part in text.split(f"```{fence}\n")[1:]]
    blocks = [b for b in blocks if b not in FILES.values() and "--8<--" not in b]  # file blocks; included files
    lines = (ROOT / "examples" / example).read_text().splitlines()
    stripped = {line.strip() for line in lines}
    assert blocks and all(line.strip() in stripped for block in blocks for line in block.splitlines())


def test_the_parser_rejects_a_marker_without_a_block() -> None:
    with pytest.raises(ValueError, match="line 1"):
        parse(f"{RUNNABLE}\n\n    envinject -s APIKEYS -- true\n")
    with pytest.raises(ValueError, match="no test can run"):
        parse(f"{RUNNABLE}\n```dockerfile\nFROM scratch\n```\n")
    blocks, _ = parse(f"# A b\n{RUNNABLE}\n```console\n$ envinject --version\nenvinject 0.1.0\n```\n")
    assert blocks == [Block("a-b-1", "console", "envinject --version\n")]
