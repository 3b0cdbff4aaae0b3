"""Every README code block marked runnable runs, so the README cannot rot.

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

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import ENVINJECT, base_env
from tests.emulator import Emulator

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()

RUNNABLE = "<!-- runnable -->"
FILE = re.compile(r"<!-- file: (\S+) -->")
INTERPRETERS = {"sh": "bash", "bash": "bash", "console": "bash", "python": "python"}
#: The README has at least this many runnable blocks; fewer means markers were lost.
AT_LEAST = 8


@dataclass(frozen=True)
class Block:
    id: str
    language: str
    code: str


def parse(text: str) -> tuple[list[Block], dict[str, str]]:
    """The runnable blocks, and the file blocks by name. A marker not followed by a fence is an error."""
    lines = text.splitlines()
    blocks: list[Block] = []
    files: dict[str, str] = {}
    heading = "top"
    per_heading: dict[str, int] = {}
    in_fence = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        if re.match(r"#{1,6} ", line):
            heading = re.sub(r"[^a-z0-9]+", "-", line.lstrip("#").lower()).strip("-")
        file = FILE.fullmatch(line.strip())
        if line.strip() != RUNNABLE and not file:
            continue
        fence = re.fullmatch(r"```(\w+)", lines[i + 1] if i + 1 < len(lines) else "")
        if not fence:
            raise ValueError(f"README.md line {i + 1}: {line.strip()} is not directly followed by a ```LANG fence")
        end = lines.index("```", i + 2)
        body = lines[i + 2 : end]
        if file:
            files[file.group(1)] = "\n".join(body) + "\n"
            continue
        language = fence.group(1)
        if language not in INTERPRETERS:
            raise ValueError(f"README.md line {i + 1}: a runnable block in {language!r}, which no test can run")
        if language == "console":
            body = [b[2:] for b in body if b.startswith("$ ")]
        per_heading[heading] = per_heading.get(heading, 0) + 1
        blocks.append(Block(f"{heading}-{per_heading[heading]}", language, "\n".join(body) + "\n"))
    return blocks, files


BLOCKS, FILES = parse(README)

#: The fake values the README's examples assume; none opens anything.
APIKEYS = {"openai": "sk-readme-openai-1234", "anthropic": "sk-ant-readme-5678"}
PROD_DB = {"password": "readme-db-password-9012"}
PARAMETERS = {
    "/myapp/prod/db_url": ("String", "postgres://db.internal:5432/app"),
    "/myapp/prod/db/password": ("SecureString", "readme-ssm-password-3456"),
}
#: Files the blocks read, beside the README's own file blocks (`<!-- file: NAME -->`).
INPUT_FILES = {
    ".env": (ROOT / "examples" / "apikeys.env").read_text(),  # `envinject push .env ...`
    "extra.env": "mistral=sk-readme-mistral-7890\n",  # `envinject push extra.env ... --merge`
}
#: The README's `python bot.py`: the shipped bot, which exits 1 unless OPENAI and ANTHROPIC are set.
BOT = (ROOT / "examples" / "bot.py").read_text()


def client(service: str, emulator: Emulator, region: str = "us-east-1") -> Any:
    return boto3.client(service, endpoint_url=emulator.url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


@pytest.fixture
def readme_world(sm: Any, emulator: Emulator, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """What the README's blocks assume, on a freshly reset emulator: returns the folder to run in and the
    environment to run with.

    - secret APIKEYS = {"openai": ..., "anthropic": ...} in us-east-1, and in eu-west-1 for the Python API's
      `region="eu-west-1"` example;
    - secret prod/db = {"password": ...}, and tls = {"key": ...};
    - parameters /myapp/prod/db_url (String) and /myapp/prod/db/password (SecureString);
    - in the folder: the README's file blocks (app.env), .env and extra.env for `push`, and examples/bot.py
      (a file a block writes itself with `-o FILE` is left out);
    - PATH starting with the virtualenv's bin (the installed `envinject`, its `python`), AWS settings pointing
      at the emulator only (no AWS_PROFILE, no ~/.aws), HOME in the test's folder, and GITHUB_ENV a file
      there, as on a GitHub Actions runner.
    """
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(APIKEYS))
    sm.create_secret(Name="prod/db", SecretString=json.dumps(PROD_DB))
    sm.create_secret(Name="tls", SecretString=json.dumps({"key": "-----BEGIN PRIVATE KEY-----\nreadme\n"}))
    client("secretsmanager", emulator, "eu-west-1").create_secret(Name="APIKEYS", SecretString=json.dumps(APIKEYS))
    ssm = client("ssm", emulator)
    for name, (kind, value) in PARAMETERS.items():
        ssm.put_parameter(Name=name, Type=kind, Value=value)

    home = tmp_path / "home"
    home.mkdir()
    env = base_env(emulator)
    env.update(
        PATH=f"{Path(ENVINJECT).parent}{os.pathsep}{env['PATH']}",
        HOME=str(home),
        GITHUB_ENV=str(tmp_path / "github_env"),
    )
    cwd = tmp_path / "work"
    cwd.mkdir()
    for name, text in {**FILES, **INPUT_FILES, "bot.py": BOT}.items():
        (cwd / name).write_text(text)
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
    assert p.returncode == 0, f"README block {block.id} exited {p.returncode}:\n{block.code}\n{p.stdout}{p.stderr}"
    assert "Traceback" not in p.stderr, p.stderr


def test_no_marked_block_is_skipped() -> None:
    """Every marker line, however spelled, became a case (a marker inside a code block or a misspelt one
    fails here), and the count has not dropped."""
    lines = README.splitlines()
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
    """The README's Dockerfile and workflow lines need docker or GitHub to run; tests/e2e/test_examples.py runs
    the example files they are taken from."""
    blocks = [part.split("```")[0] for part in README.split(f"```{fence}\n")[1:]]
    blocks = [b for b in blocks if b not in FILES.values()]  # a file block (a template) is run as a file
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
