"""`envinject run`: fetch, inject, then exec the command, or stay resident as its parent."""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import EnvinjectError
from . import Log, elapsed

if TYPE_CHECKING:
    from ..config import Settings
    from ..core import Injection


@dataclass(frozen=True)
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

    @property
    def resident(self) -> bool:
        """Whether envinject stays the command's parent instead of exec'ing it."""
        return bool(self.init or self.watch is not None or self.mask or self.restart_on_exit)


def run(settings: Settings, options: RunOptions, log: Log) -> int:
    """Fetch the secrets and exec the command with them (never returns then), or print what would happen
    (--dry-run), or supervise it and return its exit status (the resident modes)."""
    from ..core import environment, inject
    from ..environ import final_sources, kept
    from ..process import exec_command, find_command

    command = options.command
    if not command:
        raise EnvinjectError("no command given", hint="write envinject --secret NAME -- COMMAND [ARGS...]")
    if not settings.secrets and not settings.env_files:
        log.note("no secrets given; running the command with the inherited environment")
    fetching = time.perf_counter()
    with fetch_deadline(settings):
        injection = inject(settings, note=log.note)
    env = environment(settings, injection.bindings, os.environ)
    names = final_sources(injection.bindings)
    note_fetch(log, injection, fetching, len(names))
    if options.dry_run:
        program = find_command(command[0], env, os.environ.get("PATH"))
        held = kept({} if settings.pristine else os.environ, injection.bindings, override=settings.override)
        lines = []
        for name, src in names.items():
            lines.append(f"{name}\t<- {src}{'  (inherited value kept)' if name in held else ''}\n")
        lines.append(f"exec: {shlex.join(command)}  ({program})\n")
        sys.stdout.write("".join(lines))
        return 0
    if not options.resident:
        log.note(f"exec: {command[0]} at {elapsed()} after start")
        exec_command(command, env, search_path=os.environ.get("PATH"))
    return supervise(env, settings, injection, options)


def fetch_deadline(settings: Settings) -> AbstractContextManager[None]:
    """The --timeout watchdog around a fetch: exit 125 with one line naming the endpoint and secrets."""
    from ..core import endpoint_of
    from ..process import deadline

    return deadline(
        settings.timeout,
        lambda: (
            f"timed out after {settings.timeout:g}s waiting for {endpoint_of(settings, os.environ)} to give "
            f"{', '.join(repr(s) for s in settings.secrets) or 'the secrets'}; "
            "check the network, VPC endpoint or --endpoint-url (--timeout sets the limit)"
        ),
    )


def note_fetch(log: Log, injection: Injection, started: float, variables: int) -> None:
    """-v: how long finding credentials and fetching took, and the requests sent."""
    factory = injection.factory
    credentials = 0.0
    if factory is not None and factory.credentials_seconds is not None:
        credentials = factory.credentials_seconds
        log.note(f"credentials: {credentials * 1000:.0f} ms ({factory.credentials_method or 'none found'})")
    requests = injection.source.requests
    detail = ", ".join(f"{n} {op}" for op, n in requests.items())
    setup = f", {(factory.setup_seconds - credentials) * 1000:.0f} ms of it loading botocore" if factory else ""
    fetch_ms = (time.perf_counter() - started - credentials) * 1000
    log.note(
        f"fetch: {fetch_ms:.0f} ms{setup}; {sum(requests.values())} request(s) ({detail or 'none'}); "
        f"{variables} variable(s)"
    )


def supervise(env: dict[str, str], settings: Settings, injection: Injection, options: RunOptions) -> int:
    """The resident modes: envinject stays the command's parent and returns its exit status."""
    import signal

    from ..core import make_source
    from ..supervisor import Supervisor, SupervisorOptions
    from ..watch import Watcher

    stop_signal, watch = options.stop_signal, options.watch
    name = stop_signal.upper() if stop_signal.upper().startswith("SIG") else "SIG" + stop_signal.upper()
    try:
        signum = signal.Signals[name] if not stop_signal.isdigit() else signal.Signals(int(stop_signal))
    except (KeyError, ValueError):
        raise EnvinjectError(f"unknown signal {stop_signal!r}", hint="for example SIGTERM, SIGINT or 15") from None
    if watch is not None and watch <= 0:
        raise EnvinjectError("--watch needs a positive number of seconds", hint="for example --watch 60")
    values = [b.value for b in injection.bindings] if options.mask else []
    sup_options = SupervisorOptions(
        stop_signal=signum, kill_timeout=options.kill_timeout, mask_values=values,
        restart_on_exit=options.restart_on_exit, reap_orphans=True if options.init else None,
    )  # fmt: skip
    with Supervisor(sup_options) as sup:
        sup.start(options.command, env, search_path=os.environ.get("PATH"))
        if watch is None:
            return sup.run()
        # Two tries per poll: a failed poll is logged and tried again at the next, backed-off interval.
        poll_source = make_source(dataclasses.replace(settings, max_attempts=2))
        masks = sup.add_mask_values if options.mask else None
        watcher = Watcher(settings, injection, os.environ, watch, Log().warn, masks, poll_source)
        return sup.run(watcher.poll, watcher.interval)
