"""The playground's world: every secret, parameter and file the documentation's runnable examples use.

One definition, for `make try` (examples/playground.py, which a reader pastes the examples into) and for the
tests that run each runnable block (tests/e2e/test_readme_blocks.py): a block works in the tests exactly when it
works in the playground. No value here opens anything.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The seed's secret: what `make demo` stores and every first example reads.
APIKEYS = {"openai": "sk-playground-openai-1234", "anthropic": "sk-ant-playground-5678"}
#: The other secrets the examples name.
SECRETS: dict[str, dict[str, str]] = {
    "APIKEYS": APIKEYS,
    "prod/db": {"password": "playground-db-password-9012"},
    "tls": {"key": "-----BEGIN PRIVATE KEY-----\nplayground\n-----END PRIVATE KEY-----\n"},
}
#: Parameter Store: name -> (type, value).
PARAMETERS = {
    "/myapp/prod/db_url": ("String", "postgres://db.internal:5432/app"),
    "/myapp/prod/db/password": ("SecureString", "playground-ssm-password-3456"),
}
#: The region everything lives in, as the emulator's settings say.
REGION = "us-east-1"
#: The documentation whose runnable blocks and file blocks make the world: the README and the manual.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

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


def doc_blocks() -> tuple[list[Block], dict[str, str]]:
    """Every runnable block of the documentation, and its file blocks by name."""
    blocks: list[Block] = []
    files: dict[str, str] = {}
    for doc in DOCS:
        found, named = parse(doc.read_text())
        page = doc.relative_to(ROOT).with_suffix("").as_posix().replace("/", "-")
        blocks += [Block(f"{page}-{b.id}", b.language, b.code) for b in found]
        files.update(named)
    return blocks, files


#: Files the examples read from the folder they run in, beside the documentation's own file blocks.
FILES = {
    "bot.py": (ROOT / "examples" / "bot.py").read_text(),
    ".env": (ROOT / "examples" / "apikeys.env").read_text(),  # `envinject push .env ...`
    "extra.env": "mistral=sk-playground-mistral-7890\n",  # `envinject push extra.env ... --merge`
}


def seed(url: str) -> None:
    """Create the secrets and parameters on the emulator at ``url``."""
    import boto3

    keys: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    sm = boto3.client("secretsmanager", endpoint_url=url, region_name=REGION, **keys)
    for name, value in SECRETS.items():
        sm.create_secret(Name=name, SecretString=json.dumps(value))
    ssm = boto3.client("ssm", endpoint_url=url, region_name=REGION, **keys)
    for name, (kind, value) in PARAMETERS.items():
        ssm.put_parameter(Name=name, Type=kind, Value=value)


def environment(emulator: Mapping[str, str], bin_dir: Path, home: Path, github_env: Path) -> dict[str, str]:
    """The environment the examples run in: the emulator's settings (and no AWS profile or ~/.aws), the
    virtualenv's bin first on PATH (its `envinject` and `python`), HOME, and GITHUB_ENV a file, as on a runner."""
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GITHUB_ENV": str(github_env),
        **emulator,
    }


def write_files(folder: Path) -> None:
    """Put the examples' files into ``folder``: the documentation's file blocks, then :data:`FILES`."""
    for name, text in {**doc_blocks()[1], **FILES}.items():
        (folder / name).write_text(text)
