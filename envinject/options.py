"""What each command takes beyond the settings: plain values as parsed, checked by :mod:`envinject.validate`.

The settings (:class:`envinject.settings.Settings`) are what every command that reads secrets shares, from the
command line, the environment or a config file; these are one command's own options, from its command line.
"""

from __future__ import annotations

from pathlib import Path

from .records import field, record


@record(frozen=True)
class RunOptions:
    """How to run the command once the secrets are fetched."""

    command: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: Stay as the parent (PID 1 in a container): forward signals, reap orphans.
    init: bool = False
    #: Poll every this many seconds and restart the command when a secret changes.
    watch: float | None = None
    mask: bool = False
    restart_on_exit: bool = False
    stop_signal: str = "SIGTERM"
    kill_timeout: float = 10.0
    #: With --watch: "restart", or "signal:NAME" to rewrite file secrets and signal the command instead.
    on_change: str = "restart"
    #: With a signal on change: signal even when an environment value changed (it stays stale).
    accept_stale_env: bool = False

    @property
    def resident(self) -> bool:
        """Whether envinject stays the command's parent instead of exec'ing it."""
        return bool(self.init or self.watch is not None or self.mask or self.restart_on_exit)


@record(frozen=True)
class ExportOptions:
    fmt: str = "dotenv"
    #: The file as written on the command line; None or "-": stdout.
    output: str | None = None
    force: bool = False
    #: Also print ::add-mask:: commands to stdout (GitHub Actions).
    github_mask: bool = False


@record(frozen=True)
class RenderOptions:
    template: Path
    #: ``-o`` as given; None or "-": stdout.
    output: str | None = None
    #: The reader the file is written for; None: from the template's name (.json, .yaml, .sh, .env, .toml, ...).
    fmt: str | None = None
    force: bool = False


@record(frozen=True)
class PushOptions:
    file: Path
    #: The secret to create or update.
    secret: str
    merge: bool = False
    description: str | None = None
    kms_key_id: str | None = None
    dry_run: bool = False
    #: Expand ${NAME} as python-dotenv's dotenv_values() does, instead of storing it as written.
    interpolate: bool = False


@record(frozen=True)
class DiffOptions:
    #: The two sides as given: a file, references, or ``stage:NAME``.
    sides: tuple[str, ...] = ()
    keys_only: bool = False
    #: Names to leave out, as shell patterns (``*``, ``?``, ``[...]``).
    ignore: tuple[str, ...] = ()
    #: table, json or github.
    fmt: str = "table"


CommandOptions = RunOptions | ExportOptions | RenderOptions | PushOptions | DiffOptions
