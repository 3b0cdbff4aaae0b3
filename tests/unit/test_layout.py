"""The layering the package docstrings promise, read from the source: pure rules import no I/O, nothing outside
sources/ imports botocore, system/ stands on errors alone, and no module imports another that imports it back."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "envinject"

#: Standard-library modules that touch files, processes, the network, signals or the terminal.
IO_MODULES = {
    "os", "sys", "io", "pathlib", "subprocess", "socket", "ssl", "http", "urllib.request", "shutil", "tempfile",
    "signal", "threading", "select", "ctypes", "fcntl", "mmap", "glob", "time", "logging", "warnings",
}  # fmt: skip
#: ``io.StringIO`` (an in-memory stream) is how python-dotenv's parser takes text: not I/O.
ALLOWED_IN_RULES = {"envinject.rules.envfile": {"io"}}
#: What every layer may stand on: errors, and the record classes (pure, no I/O).
FOUNDATION = {"envinject.errors", "envinject.records"}
#: The third-party packages only the AWS backends may load.
AWS_SDK = ("botocore", "boto3")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, *, top_level_only: bool = False) -> Iterator[str]:
    """Every module ``name`` imports (relative imports resolved), at any depth or at module level only."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:  # `if TYPE_CHECKING:` imports never run
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            for alias in node.names:  # `from . import flatten` imports the module envinject.rules.flatten
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}"


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("name", [n for n in MODULES if in_package(n, "envinject.rules")])
def test_pure_rules_import_no_io_and_nothing_above_them(name: str) -> None:
    allowed = ALLOWED_IN_RULES.get(name, set())
    for target in imports(name):
        if target.startswith("envinject"):
            assert in_package(target, "envinject.rules") or target in FOUNDATION, (name, target)
        else:
            assert target.split(".")[0] not in IO_MODULES - allowed and target not in IO_MODULES - allowed, (
                name,
                target,
            )
            assert not target.startswith(AWS_SDK), (name, target)


@pytest.mark.parametrize("name", [n for n in MODULES if not in_package(n, "envinject.sources")])
def test_only_sources_import_the_aws_sdk(name: str) -> None:
    assert not [t for t in imports(name) if t.startswith(AWS_SDK)]


@pytest.mark.parametrize("name", [n for n in MODULES if in_package(n, "envinject.system")])
def test_system_effects_stand_on_errors_alone(name: str) -> None:
    inside = {t for t in imports(name) if t.startswith("envinject")}
    assert inside <= FOUNDATION | {n for n in MODULES if in_package(n, "envinject.system")}, inside


@pytest.mark.parametrize("name", [n for n in MODULES if in_package(n, "envinject.resident")])
def test_resident_modes_never_reach_up_to_commands_or_the_cli(name: str) -> None:
    for target in imports(name):
        assert not in_package(target, "envinject.commands") and target != "envinject.cli", (name, target)


def test_no_import_cycles() -> None:
    graph = {n: {t for t in imports(n, top_level_only=True) if t in MODULES and t != n} for n in MODULES}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for n in sorted(MODULES):
        if n not in state:
            visit(n, [n])


@pytest.mark.parametrize("name", [n for n in MODULES if MODULES[n].name == "__init__.py"])
def test_each_package_says_what_lives_there(name: str) -> None:
    assert ast.get_docstring(ast.parse(MODULES[name].read_text())), name


@pytest.mark.parametrize("name", list(MODULES))
def test_no_module_imports_dataclasses(name: str) -> None:
    # envinject.records declares values without the start-up cost of dataclasses (see its docstring).
    assert "dataclasses" not in set(imports(name)), name
