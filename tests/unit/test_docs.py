"""The manual and CONTRIBUTING.md show what the code does."""

import re
from pathlib import Path

import pytest

from envinject.rules.naming import CATEGORIES

ROOT = Path(__file__).parents[2]
PROTECTED_PAGE = (ROOT / "docs" / "guide" / "protected-names.md").read_text()
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text()


def protected_names_table() -> str:
    """The manual's table of protected names, as the code's categories give it."""
    rows = [
        "| category | a `VAR=REF` you write | patterns | from | what it stops (from an ordinary key) |",
        "|---|---|---|---|---|",
    ]
    for c in CATEGORIES:
        patterns = ", ".join([*(f"`{p}`" for p in c.patterns), *(f"`{p}` (any case)" for p in c.any_case)])
        explicit = "sets it" if c.explicit else "needs `--allow` too"
        rows.append(f"| {c.title} | {explicit} | {patterns} | {c.sources} | {c.stops} |")
    return "\n".join(rows)


def test_the_manual_shows_the_protected_categories() -> None:
    section = PROTECTED_PAGE.split("<!-- protected-names -->")[1].split("<!-- /protected-names -->")[0]
    assert section.strip() == protected_names_table()


def test_every_promise_names_a_test_that_exists() -> None:
    section = CONTRIBUTING.split("## Promises and the tests that keep them")[1].split("\n# ")[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", section)
    assert named
    for path, test in named:
        assert re.search(rf"^def {test}\(", (ROOT / path).read_text(), re.M), f"{path}::{test} does not exist"


@pytest.mark.parametrize("command", ["run", "export", "render", "check", "policy", "push", "diff"])
def test_each_reference_page_lists_exactly_the_options_its_command_takes(command: str) -> None:
    from typer.main import get_command

    from envinject.cli import app

    page = (ROOT / "docs" / "reference" / f"{command}.md").read_text()
    listed = {name for row in re.findall(r"^\| `(-[^`]*)` \|", page, re.M) for name in re.findall(r"--?[\w-]+", row)}
    params = get_command(app).commands[command].params  # type: ignore[attr-defined]
    accepted = {name for p in params for name in (*p.opts, *p.secondary_opts) if name.startswith("-")}
    assert listed - {"--help"} == accepted


def test_the_readme_is_one_page() -> None:
    assert len((ROOT / "README.md").read_text().split()) <= 1200
