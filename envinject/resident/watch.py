"""`--watch`: poll the secrets (and parameters) with the same reads as a run, and hand the supervisor a new
environment on rotation."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import EnvinjectError
from ..plan import Injection
from ..rules.environment import secret_texts
from ..settings import Settings
from ..sources import Source
from ..system.process import check_exec
from .secret_files import SecretFiles


@dataclass(frozen=True)
class Reload:
    """``--on-change signal:NAME``: how a change reaches the command without a restart."""

    name: str
    send: Callable[[], None]
    #: Signal even when an environment value changed (it stays stale until the next restart).
    accept_stale_env: bool = False


#: Each failed poll in a row doubles the wait, up to this many times the interval.
MAX_BACKOFF = 8


class Watcher:
    """Compares each secret's VersionId (or parameter's version) on every poll; it needs only what a run
    needs."""

    def __init__(
        self,
        settings: Settings,
        injection: Injection,
        inherited: Mapping[str, str],
        seconds: float,
        log: Callable[[str], None],
        on_values: Callable[[list[str]], None] | None = None,
        source: Source | None = None,
        command: Sequence[str] = (),
        *,
        files: SecretFiles | None = None,
        reload: Reload | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings, self.injection, self.inherited = settings, injection, inherited
        #: Where file secrets are rewritten on a change; how a change reaches the command instead of a restart.
        self.files, self.reload = files, reload
        #: The environment the command runs with now (to tell whether a change touched it).
        self.env = dict(env or {})
        # Polls may use their own source: a poll should fail fast and back off, not retry for long.
        self.source: Source = source or injection.source
        self.seconds, self.log, self.on_values = seconds, log, on_values
        #: The command, so that a new environment is checked against exec's limits with its arguments.
        self.command = list(command)
        self.versions = {loc: p.version_id for loc, p in injection.payloads.items()}
        self.failures = 0
        self._rejected: tuple[object, ...] | None = None  # the last rotation that could not be injected

    def interval(self) -> float:
        """The next wait: SECONDS plus or minus 10% so a fleet does not poll in step, longer after failures."""
        return self._backed_off() * random.uniform(0.9, 1.1)

    def _backed_off(self) -> float:
        return float(self.seconds * min(2**self.failures, MAX_BACKOFF))

    def poll(self) -> dict[str, str] | None:
        """A new environment when a secret changed and still injects cleanly; None to keep the child."""
        locators = list(self.versions)
        results = self.source.fetch_each(locators)
        failed = [r for r in results.values() if isinstance(r, EnvinjectError)]
        if failed:
            self.failures += 1
            self.log(f"watch: poll failed, the command keeps running ({failed[0]}); next try in about "
                     f"{self._backed_off():g}s")  # fmt: skip
            return None
        if self.failures:
            self.log("watch: poll succeeded again")
            self.failures = 0
        changed = [loc for loc in locators if results[loc].version_id != self.versions[loc]]  # type: ignore[union-attr]
        if not changed:
            self._rejected = None
            return None
        names = ", ".join(loc.describe() for loc in changed)
        try:
            bindings = self.injection.plan.bind(results, warn=self.log)
            if self.files is not None:  # a file keeps its path; its content is rewritten once all is checked
                bindings = self.files.with_paths(bindings)
            env = self.injection.plan.environment(bindings)
            check_exec(self.command, env)
            if self.files is not None:
                self.files.place(bindings)  # each rewritten in place, atomically
        except (EnvinjectError, RecursionError) as e:
            # The same rejected versions come back on every poll: say it once, and again when it changes.
            reason = str(e) if isinstance(e, EnvinjectError) else "its JSON is nested too deeply"
            rejected = (reason, *(results[loc].version_id for loc in changed))  # type: ignore[union-attr]
            if rejected != self._rejected:
                self.log(f"watch: {names} changed but cannot be injected: {reason}; the command keeps running")
                self._rejected = rejected
            return None
        self._rejected = None
        for loc in changed:
            self.versions[loc] = results[loc].version_id  # type: ignore[union-attr]
        if self.on_values is not None:
            self.on_values(secret_texts(bindings))
        if self.reload is not None:
            stale = sorted(name for name in env.keys() | self.env.keys() if env.get(name) != self.env.get(name))
            if not stale or self.reload.accept_stale_env:
                self.reload.send()
                kept = f"; {', '.join(stale)} keep their old values (--accept-stale-env)" if stale else ""
                self.log(f"watch: {names} changed; files rewritten, sent {self.reload.name} to the command{kept}")
                return None
            self.log(f"watch: {names} changed {', '.join(stale)} in the environment, which no signal can deliver; "
                     "restarting the command")  # fmt: skip
        else:
            self.log(f"watch: {names} changed; restarting the command")
        self.env = env
        return env
