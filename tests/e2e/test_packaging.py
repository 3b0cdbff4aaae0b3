"""Packaging: `python -m build` gives a wheel and an sdist that install into fresh venvs and run; `pipx install .` too.

Everything is built from a copy of the working tree in a temporary folder: setuptools writes build/ and
envinject.egg-info next to the sources it builds, and the repository must stay clean. Dependencies come
from the package index (through pip's cache); envinject itself only talks to moto_server on 127.0.0.1.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

import envinject
from tests.e2e.conftest import base_env
from tests.emulator import Emulator

ROOT = Path(__file__).parents[2]
VERSION = envinject.__version__
SEED = {"openai": "sk-openai-canary-1", "anthropic": "sk-ant-canary-2"}
#: The seed scenario's command: prints the two variables envinject should have set.
PRINT_KEYS = "import json, os; print(json.dumps({k: os.environ.get(k) for k in ('OPENAI', 'ANTHROPIC')}))"
#: Not worth copying, and never part of a distribution: version control, virtualenvs, caches, build output.
SKIP = {".git", ".venv", ".aws-venv", ".hypothesis", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist"}
#: What a working tree may hold besides the sources; none of it may reach the sdist or the wheel.
STRAYS = {
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/site-packages/stray_module.py": "STRAY = True\n",
    "dist/envinject-0.0.1.tar.gz": "not an archive\n",
    "notes.txt": "stray notes\n",
    "envinject/stray_notes.txt": "stray notes in the package folder\n",
}
INSTALL_TIMEOUT = 600


def copy_tree(dest: Path) -> Path:
    """The working tree as a developer has it (stray files included), without .git, virtualenvs and caches."""

    def ignore(_folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP or n.endswith(".egg-info")}

    shutil.copytree(ROOT, dest, ignore=ignore)
    for name, text in STRAYS.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(text)
    return dest


def package_sources(tree: Path) -> set[str]:
    """The package's Python files, relative to the tree: what every distribution must carry."""
    return {p.relative_to(tree).as_posix() for p in (tree / "envinject").rglob("*.py") if "__pycache__" not in p.parts}


def fresh_venv(path: Path) -> Path:
    """A new, empty venv (no --system-site-packages); returns its bin folder.

    It gets no pip of its own: the pip running the tests installs into it with --python, which saves
    creating and byte-compiling a pip per venv (about 6 seconds each).
    """
    venv.create(path, with_pip=False, clear=True)
    return path / "bin"


def pip_install(bin_dir: Path, *what: str) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install",
         "--disable-pip-version-check", "--no-input", *what],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr


def run_seed_scenario(envinject_script: Path, python: str, emulator: Emulator, sm: Any, cwd: Path) -> None:
    """`envinject --secret APIKEYS -- python -c ...`: the child must receive both keys, exactly."""
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(SEED))
    p = subprocess.run(
        [str(envinject_script), "--secret", "APIKEYS", "--", python, "-c", PRINT_KEYS],
        env=base_env(emulator), capture_output=True, text=True, timeout=60, cwd=cwd,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"OPENAI": SEED["openai"], "ANTHROPIC": SEED["anthropic"]}
    assert p.stderr == ""


def version_of(envinject_script: Path, cwd: Path) -> str:
    p = subprocess.run([str(envinject_script), "--version"], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@dataclass
class Dists:
    tree: Path
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dists]:
    """`python -m build --wheel --sdist`, run once for the module."""
    tree = copy_tree(tmp_path_factory.mktemp("build") / "envinject")
    out = tmp_path_factory.mktemp("dist")
    p = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", str(out), str(tree)],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert [w.name for w in wheels] == [f"envinject-{VERSION}-py3-none-any.whl"]
    assert [s.name for s in sdists] == [f"envinject-{VERSION}.tar.gz"]
    assert sorted(f.name for f in out.iterdir()) == sorted([wheels[0].name, sdists[0].name])
    yield Dists(tree, wheels[0], sdists[0])


def test_sdist_holds_the_sources_and_nothing_stray(dists: Dists) -> None:
    top = f"envinject-{VERSION}"
    with tarfile.open(dists.sdist) as tar:
        files = {m.name.removeprefix(f"{top}/") for m in tar.getmembers() if m.isfile()}
        assert all(m.name == top or m.name.startswith(f"{top}/") for m in tar.getmembers())
        pkg_info = tar.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = Parser().parsestr(pkg_info.read().decode())
    assert {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO", "envinject/py.typed"} <= files
    assert package_sources(dists.tree) <= files
    assert metadata["Version"] == VERSION
    # Only the project files, the package and setuptools' own metadata: no .venv, dist/, caches or strays.
    extra = {f for f in files if not f.startswith(("envinject/", "envinject.egg-info/"))}
    assert extra == {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO", "setup.cfg"}
    assert not [f for f in files if "stray" in f or "__pycache__" in f or f.endswith(".pyc")]


def test_wheel_has_the_console_script_version_and_metadata(dists: Dists) -> None:
    info = f"envinject-{VERSION}.dist-info"
    with zipfile.ZipFile(dists.wheel) as whl:
        files = set(whl.namelist())
        entry_points = configparser.ConfigParser()
        entry_points.read_string(whl.read(f"{info}/entry_points.txt").decode())
        metadata = Parser().parsestr(whl.read(f"{info}/METADATA").decode())
    assert dict(entry_points["console_scripts"]) == {"envinject": "envinject.entry:main"}
    assert metadata["Name"] == "envinject"
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("Project-URL") == [
        "Homepage, https://github.com/envinject/envinject",
        "Repository, https://github.com/envinject/envinject",
        "Issues, https://github.com/envinject/envinject/issues",
        "Changelog, https://github.com/envinject/envinject/blob/main/CHANGELOG.md",
    ]
    assert f"{info}/licenses/LICENSE" in files
    assert package_sources(dists.tree) | {"envinject/py.typed"} <= files
    assert {f.split("/")[0] for f in files} == {"envinject", info}, "only the package goes into site-packages"
    assert not [f for f in files if "stray" in f or "__pycache__" in f or f.endswith(".pyc")]


def test_wheel_installs_in_a_fresh_venv_and_runs_the_seed_scenario(
    dists: Dists, sm: Any, emulator: Emulator, tmp_path: Path
) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, str(dists.wheel))
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import envinject; print(envinject.__file__)"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), "envinject must come from the fresh venv"
    assert version_of(bin_dir / "envinject", tmp_path) == f"envinject {VERSION}"
    run_seed_scenario(bin_dir / "envinject", str(bin_dir / "python"), emulator, sm, tmp_path)


def installed_modules(bin_dir: Path) -> dict[str, Path | None]:
    """Each installed envinject module and its bytecode file, or None when it has none (import would compile)."""
    script = (
        "import importlib.util, json, os, pathlib, envinject; root = pathlib.Path(envinject.__file__).parent; "
        "print(json.dumps({str(p): (c if os.path.exists(c := importlib.util.cache_from_source(str(p))) else None) "
        "for p in root.rglob('*.py')}))"
    )
    p = subprocess.run([str(bin_dir / "python"), "-I", "-B", "-c", script], capture_output=True, text=True, timeout=60,
                       check=True)  # fmt: skip
    found = {k: (Path(v) if v else None) for k, v in json.loads(p.stdout).items()}
    assert len(found) >= len(package_sources(ROOT))
    return found


def test_the_installed_wheel_ships_bytecode_and_the_dockerfile_makes_sure(dists: Dists, tmp_path: Path) -> None:
    """With bytecode cold a start is about 4x slower. pip compiles at install; an installer that does not (uv
    without --compile-bytecode, pip --no-compile) leaves it to examples/Dockerfile's compile step."""
    compiled = fresh_venv(tmp_path / "pip")
    pip_install(compiled, str(dists.wheel))
    assert [m for m, pyc in installed_modules(compiled).items() if pyc is None] == []
    bare = fresh_venv(tmp_path / "no-compile")
    pip_install(bare, "--no-compile", str(dists.wheel))
    assert all(pyc is None for pyc in installed_modules(bare).values())
    steps = re.findall(r"^RUN (.*compileall.*)$", (ROOT / "examples" / "Dockerfile").read_text(), re.M)
    assert steps, "examples/Dockerfile compiles nothing at install"
    env = {**os.environ, "PATH": f"{bare}{os.pathsep}{os.environ['PATH']}", "PYTHONDONTWRITEBYTECODE": "1"}
    for step in steps:
        subprocess.run(["sh", "-c", step], env=env, check=True, timeout=INSTALL_TIMEOUT)
    assert [m for m, pyc in installed_modules(bare).items() if pyc is None] == []


def test_sdist_installs_in_a_fresh_venv(dists: Dists, tmp_path: Path) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, str(dists.sdist))
    assert version_of(bin_dir / "envinject", tmp_path) == f"envinject {VERSION}"


def test_pipx_install_from_the_source_tree(sm: Any, emulator: Emulator, tmp_path: Path) -> None:
    tree = copy_tree(tmp_path / "envinject")
    pipx = tmp_path / "pipx"
    env = {
        **os.environ,
        "PIPX_HOME": str(pipx / "home"),
        "PIPX_BIN_DIR": str(pipx / "bin"),
        "PIPX_MAN_DIR": str(pipx / "man"),
    }
    p = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(tree)],
        env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    script = pipx / "bin" / "envinject"
    assert script.resolve().is_relative_to((pipx / "home").resolve()), "pipx links to the venv it made"
    assert version_of(script, tmp_path) == f"envinject {VERSION}"
    run_seed_scenario(script, sys.executable, emulator, sm, tmp_path)


def pip_for(bin_dir: Path) -> str:
    """A bash function ``pip`` that installs into the venv at ``bin_dir`` (which has no pip of its own), so a
    recipe's install line runs as written. ``--no-cache-dir`` is dropped: it only keeps an image small, and
    here it would download every dependency again."""
    return (
        f'pip() {{ local a=(); for x in "$@"; do [ "$x" = --no-cache-dir ] || a+=("$x"); done; '
        f'"{sys.executable}" -m pip --python "{bin_dir / "python"}" --disable-pip-version-check "${{a[@]}}"; }}\n'
    )


def test_the_dockerfile_installs_the_wheel_it_copies(dists: Dists, tmp_path: Path) -> None:
    """examples/Dockerfile's COPY of the wheel and its RUN pip line, with the image's /tmp as a folder here."""
    text = (ROOT / "examples" / "Dockerfile").read_text()
    assert "pip install envinject" not in text, "envinject is not published; install the wheel"
    copy = re.search(r"^COPY (dist/\S+\.whl) (/tmp/)$", text, re.M)
    run = re.search(r"^RUN (pip install .*)$", text, re.M)
    assert copy and run, "the Dockerfile copies dist/envinject-*.whl to /tmp/ and installs it with pip"
    image_tmp = tmp_path / "image-tmp"
    image_tmp.mkdir()
    assert fnmatch.fnmatch(f"dist/{dists.wheel.name}", copy.group(1))
    shutil.copy(dists.wheel, image_tmp)
    bin_dir = fresh_venv(tmp_path / "venv")
    line = run.group(1).replace(copy.group(2), f"{image_tmp}/")
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", pip_for(bin_dir) + line], capture_output=True, text=True,
                       timeout=INSTALL_TIMEOUT, cwd=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert version_of(bin_dir / "envinject", tmp_path) == f"envinject {VERSION}"
    assert list(image_tmp.iterdir()) == [], "the wheel is removed from the image"
    assert re.search(r"^COPY examples/bot\.py \.$", text, re.M), "built from the repository's root"


def test_the_github_workflow_installs_from_the_checkout(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "github-actions.yml").read_text()
    steps = re.findall(r"^\s+- run: (pip install .*)$", text, re.M)
    assert steps == ["pip install .   # envinject from this repository's checkout"]
    assert text.index("actions/checkout") < text.index(steps[0])
    checkout = copy_tree(tmp_path / "checkout")
    bin_dir = fresh_venv(tmp_path / "venv")
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", pip_for(bin_dir) + steps[0]], capture_output=True,
                       text=True, timeout=INSTALL_TIMEOUT, cwd=checkout)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert version_of(bin_dir / "envinject", tmp_path) == f"envinject {VERSION}"
