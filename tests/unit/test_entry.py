"""The console entry point: the common command line skips typer and means exactly what typer makes of it;
everything else reaches typer unchanged."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envinject
from envinject import cli, entry
from envinject.commands import run as run_module

# A value typer must see as the option's value: not empty, not starting with "-".
refs = st.text(min_size=1, max_size=12).filter(lambda s: not s.startswith("-"))
forms = st.sampled_from(["-s", "--secret", "--secret="])
command = st.lists(st.text(max_size=8), min_size=1, max_size=4).filter(lambda c: c[0] != "")


@pytest.fixture(autouse=True)
def _gc_back_on() -> Iterator[None]:
    """entry.main turns the cyclic GC off for the rest of the process; give it back to pytest."""
    yield
    gc.enable()


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A folder with no config file, and one whose envinject.toml adds a secret and a region."""
    bare = tmp_path_factory.mktemp("bare")
    configured = tmp_path_factory.mktemp("configured")
    (configured / "envinject.toml").write_text('secrets = ["FROM_CONFIG"]\nregion = "eu-west-1"\n')
    return {"bare": bare, "configured": configured}


def _argv(pairs: list[tuple[str, str]], cmd: list[str]) -> list[str]:
    out: list[str] = []
    for form, ref in pairs:
        out += [form + ref] if form.endswith("=") else [form, ref]
    return [*out, "--", *cmd]


def _captured(main: Any, argv: list[str], mp: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """What ``main`` hands to commands.run.run for ``argv``: (Settings, RunOptions), or the exit status."""
    seen: list[tuple[Any, ...]] = []

    def record(settings: Any, options: Any, log: Any) -> int:
        seen.append((settings, options, log.verbose))
        return 0

    mp.setattr(run_module, "run", record)
    mp.setattr(sys, "argv", ["envinject", *argv])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code in (0, None), exit_.value.code
    (got,) = seen
    return got


@pytest.mark.slow  # each example runs typer's parser and the fast path's in full
@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(forms, refs), max_size=4),
    cmd=command,
    env_secrets=st.sampled_from([None, "", "A, B\nC"]),
    folder=st.sampled_from(["bare", "configured"]),
)
def test_fast_path_means_what_typer_means(
    folders: dict[str, Path], pairs: list[tuple[str, str]], cmd: list[str], env_secrets: str | None, folder: str
) -> None:
    argv = _argv(pairs, cmd)
    assert entry.fast_args(argv) == ([r for _, r in pairs], cmd)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folders[folder])
        if env_secrets is None:
            mp.delenv("ENVINJECT_SECRETS", raising=False)
        else:
            mp.setenv("ENVINJECT_SECRETS", env_secrets)
        fast = _captured(entry.main, argv, mp)
        typer = _captured(cli.main, argv, mp)
    assert fast == typer


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["-h"],
        ["--version", "--help"],
        ["run", "-s", "X", "--", "true"],
        ["export", "-s", "X"],
        ["check", "-s", "X"],
        ["policy", "-s", "X"],
        ["push", "x.env", "-s", "X"],
        ["-sX", "--", "true"],  # joined short option
        ["-s", "-x", "--", "true"],  # a value starting with -
        ["--secret", "--", "--", "true"],
        ["-s", "", "--", "true"],  # an empty value
        ["--secret=", "--", "true"],
        ["--secret=-x", "--", "true"],
        ["-s", "X", "--region", "eu-west-1", "--", "true"],  # another option
        ["--dry-run", "-s", "X", "--", "true"],
        ["-s", "X", "-v", "--", "true"],
        ["-s", "X", "true"],  # no --
        ["-s", "X", "--"],  # no command
        ["-s", "X"],
        ["-s"],
        ["--secrets", "X", "--", "true"],
        ["--sec", "X", "--", "true"],
        ["-S", "X", "--", "true"],
    ],
)
def test_everything_else_reaches_typer_unchanged(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert entry.fast_args(argv) is None
    reached: list[list[str]] = []

    def typer_main() -> None:
        reached.append(list(sys.argv))
        raise SystemExit(7)

    def not_here(*_: Any) -> int:
        raise AssertionError("the fast path ran")

    monkeypatch.setattr(cli, "main", typer_main)
    monkeypatch.setattr(entry, "_run", not_here)
    monkeypatch.setattr(sys, "argv", ["envinject", *argv])
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 7
    assert reached == [["envinject", *argv]]


def test_errors_on_the_fast_path_are_one_line_and_125(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["envinject", "-s", "bad ref\x1b[31m", "--", "true"])
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 125
    err = capsys.readouterr().err
    assert err.startswith("envinject: ") and err.count("\n") == 1 and "\x1b" not in err


@pytest.mark.parametrize(
    "options",
    [
        run_module.RunOptions(command=["true"], init=True),
        run_module.RunOptions(command=["true"], mask=True),
        run_module.RunOptions(command=["true"], watch=5.0),
        run_module.RunOptions(command=["true"], restart_on_exit=True),
    ],
)
def test_resident_modes_turn_the_gc_back_on_before_supervising(
    options: run_module.RunOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envinject.resident.child
    from envinject.plan import Injection, make_plan
    from envinject.settings import Settings
    from envinject.validate import Checked

    class Started(Exception):
        pass

    class Child:
        def __init__(self, *_args: Any, **_kwargs: Any) -> None:
            assert gc.isenabled()
            raise Started

    monkeypatch.setattr(envinject.resident.child, "Child", Child)
    gc.disable()
    with pytest.raises(Started):
        injection = Injection(make_plan(Settings(), {}), source=None, payloads={}, bindings=[])  # type: ignore[arg-type]
        run_module.supervise({}, Settings(), injection, options, Checked())


CANARY = "canary-exit-value"


def _raisable() -> list[BaseException]:
    """An instance of every built-in exception a command could raise (those made without arguments, most with a
    message that stands for a value), and of envinject's own with their exit statuses."""
    import builtins
    import errno

    from envinject.errors import CommandError, ConfigError, EnvinjectError, FetchError

    found: list[BaseException] = []
    for cls in vars(builtins).values():
        if not isinstance(cls, type) or not (issubclass(cls, Exception) or cls is KeyboardInterrupt):
            continue
        for args in ((CANARY,), ()):
            try:
                found.append(cls(*args))
                break
            except TypeError:
                continue
    return [
        *found,
        OSError(errno.ENOSPC, "No space left on device"),
        EnvinjectError("plain", hint="a hint"),
        ConfigError("bad option"),
        FetchError("denied", denied_action="secretsmanager:GetSecretValue"),
        CommandError("no such command", exit_code=127),
        CommandError("cannot run", exit_code=126),
    ]


@pytest.mark.parametrize("exc", _raisable(), ids=lambda e: f"{type(e).__name__}:{getattr(e, 'exit_code', '')}")
def test_both_paths_end_a_failure_alike(
    exc: BaseException, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import envinject.exits
    import envinject.system.stdio
    from envinject.errors import EnvinjectError

    def fail(*_: Any) -> int:
        raise exc

    def sigpipe() -> None:
        raise SystemExit("killed by SIGPIPE")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_module, "run", fail)
    monkeypatch.setattr(envinject.exits, "die_of_sigpipe", sigpipe)
    monkeypatch.setattr(envinject.system.stdio, "_drop_stdout", lambda: None)  # pytest's stdout stays
    monkeypatch.setattr(sys, "argv", ["envinject", "-s", "X", "--", "true"])
    endings = []
    for main in (entry.main, cli.main):
        with pytest.raises(SystemExit) as exit_:
            main()
        endings.append((exit_.value.code, capsys.readouterr().err))
    assert endings[0] == endings[1]
    if not isinstance(exc, EnvinjectError):
        assert CANARY not in endings[0][1]


def test_version_prints_what_the_cli_prints_without_typer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    monkeypatch.setattr(cli, "main", lambda: pytest.fail("typer ran"))
    monkeypatch.setattr(sys, "argv", ["envinject", "--version"])
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert shown == CliRunner().invoke(cli.app, ["--version"]).output == f"envinject {envinject.__version__}\n"
