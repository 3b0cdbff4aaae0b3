"""`envinject run`: fetch, inject, then exec the command, or stay resident as its parent."""

from __future__ import annotations

import os
import shlex
import time
from typing import TYPE_CHECKING

from ..errors import one_line
from ..options import RunOptions
from ..records import replace
from ..system.stdio import write_stdout
from . import NOTHING_TO_INJECT, Log, elapsed, fetch_deadline, nothing_to_inject

if TYPE_CHECKING:
    from ..plan import Injection
    from ..resident.memory import CoreLimit
    from ..resident.secret_files import SecretFiles
    from ..settings import Settings
    from ..validate import Checked


def run(settings: Settings, options: RunOptions, log: Log) -> int:
    """Fetch the secrets and exec the command with them (never returns then), or print what would happen
    (--dry-run), or supervise it and return its exit status (the resident modes)."""
    from ..plan import inject
    from ..rules.environment import final_sources
    from ..system.process import find_command
    from ..validate import validate

    checked = validate(settings, options)
    command = options.command
    if nothing_to_inject(settings, os.environ):
        log.warn(NOTHING_TO_INJECT)  # not only with -v: a forgotten ENVINJECT_SECRETS must not pass unseen
    core_limit = None
    if options.resident and not options.dry_run:  # before the first value arrives, for as long as they are held
        from ..resident.memory import keep_private

        core_limit = keep_private()
    files = None
    if settings.files and not options.dry_run:
        from ..resident.secret_files import SecretFiles

        files = SecretFiles(resident=options.resident)
        files.start()  # its holder process starts while the secrets are fetched
    fetching = time.perf_counter()
    with fetch_deadline(settings):
        injection = inject(settings, note=log.note, warn=log.warn, inherited=os.environ)
    if files is None and any(b.content is not None for b in injection.bindings):
        from ..resident.secret_files import SecretFiles

        files = SecretFiles(resident=options.resident)
    plan = injection.plan
    env = plan.environment(injection.bindings)
    names = final_sources(injection.bindings)
    note_fetch(log, injection, fetching, len(names))
    if options.dry_run:
        program = find_command(command[0], env, os.environ.get("PATH"))
        held = plan.kept(injection.bindings)
        lines = []
        for name, src in names.items():
            lines.append(f"{name}\t<- {one_line(src)}{'  (inherited value kept)' if name in held else ''}\n")
        lines.append(f"exec: {one_line(shlex.join(command))}  ({one_line(program)})\n")
        write_stdout("".join(lines))
        return 0
    if files is None:
        return _start(command, env, settings, injection, options, checked, log, None, core_limit)
    with files:
        env = plan.environment(files.place(injection.bindings))
        log.note(f"file secrets: {sum(b.content is not None for b in injection.bindings)} ({files.mechanism})")
        return _start(command, env, settings, injection, options, checked, log, files, core_limit)


def _start(
    command: list[str], env: dict[str, str], settings: Settings, injection: Injection, options: RunOptions,
    checked: Checked, log: Log,
    files: SecretFiles | None, core_limit: CoreLimit | None,
) -> int:  # fmt: skip
    from ..system.process import exec_command

    if not options.resident:
        log.note(f"exec: {command[0]} at {elapsed()} after start")
        exec_command(command, env, search_path=os.environ.get("PATH"))
    return supervise(env, settings, injection, options, checked, files, core_limit)


def note_fetch(log: Log, injection: Injection, started: float, variables: int) -> None:
    """-v: how long finding credentials and fetching took, and the requests sent."""
    factory = injection.factory
    credentials = 0.0
    if factory is not None and factory.credentials_seconds is not None:
        credentials = factory.credentials_seconds
        log.note(f"credentials: {credentials * 1000:.0f} ms ({factory.credentials_method or 'none found'})")
    requests = dict(injection.source.requests)
    for op, n in factory.requests.items() if factory is not None else ():
        requests[op] = requests.get(op, 0) + n
    detail = ", ".join(f"{n} {op}" for op, n in requests.items())
    loading = factory.setup_seconds - credentials if factory is not None else 0.0
    setup = f", {loading * 1000:.0f} ms of it loading botocore" if factory is not None and factory.setup_seconds else ""
    fetch_ms = (time.perf_counter() - started - credentials) * 1000
    log.note(
        f"fetch: {fetch_ms:.0f} ms{setup}; {sum(requests.values())} request(s) ({detail or 'none'}); "
        f"{variables} variable(s)"
    )


def supervise(
    env: dict[str, str], settings: Settings, injection: Injection, options: RunOptions, checked: Checked,
    files: SecretFiles | None = None, core_limit: CoreLimit | None = None,
) -> int:  # fmt: skip
    """The resident modes: envinject stays the command's parent and returns its exit status. ``core_limit``: the
    one envinject was given, for the command (its own is zero while it holds values)."""
    import gc

    from ..plan import make_source
    from ..resident.child import Child
    from ..resident.loop import Loop
    from ..resident.options import ResidentOptions
    from ..resident.output import MaskedOutput
    from ..resident.watch import Reload, Watcher, WatchTarget
    from ..rules.environment import secret_values
    from ..rules.retry import poll_policy

    gc.enable()  # the entry point turns it off for the start; a parent that stays must collect its garbage

    watch, reload_signal = options.watch, checked.reload_signal
    output = MaskedOutput(secret_values(injection.bindings), more_to_come=watch is not None) if options.mask else None
    resident = ResidentOptions(
        stop_signal=checked.stop_signal, kill_timeout=options.kill_timeout,
        restart_on_exit=options.restart_on_exit, reap_orphans=True if options.init else None,
        poll=poll_policy(watch) if watch is not None else None, core_limit=core_limit,
    )  # fmt: skip
    child = Child(options.command, resident, output=output, search_path=os.environ.get("PATH"))
    if resident.poll is None:
        return Loop(child, resident).run(env)
    reload = None
    if reload_signal is not None:
        reload = Reload(reload_signal.name, lambda: child.signal(reload_signal), options.accept_stale_env)
    masks = output.add_values if output is not None else None
    target = WatchTarget(command=options.command, env=env, files=files, reload=reload, on_values=masks)
    # A poll that fails is logged and tried again at the next, backed-off interval, not retried for long.
    # Through the agent, each poll skips its cache: a rotation is seen at the next poll, not after the cache period.
    poll_source = make_source(replace(settings, max_attempts=resident.poll.attempts), refresh=True, warn=Log().warn)
    watcher = Watcher(injection, target, policy=resident.poll, log=Log().warn, source=poll_source)
    return Loop(child, resident).run(env, watcher)
