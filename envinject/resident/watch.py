"""`--watch`: poll the secrets (and parameters) with the same reads as a run, and hand the loop a new environment
on rotation, or rewrite the file secrets and signal the command."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..errors import EnvinjectError
from ..plan import Injection
from ..records import field, record
from ..rules.environment import secret_values
from ..rules.retry import RetryPolicy
from ..sources import Source
from ..system.process import check_exec
from .secret_files import SecretFiles


@record(frozen=True)
class Reload:
    """``--on-change signal:NAME``: how a change reaches the command without a restart."""

    name: str
    send: Callable[[], None]
    #: Signal even when an environment value changed (it stays stale until the next restart).
    accept_stale_env: bool = False


@record(frozen=True)
class WatchTarget:
    """What a change is delivered to: the command, its environment now, its files, and the masked values."""

    #: The command, so that a new environment is checked against exec's limits with its arguments.
    command: Sequence[str] = ()
    #: The environment the command runs with now (to tell whether a change touched it).
    env: Mapping[str, str] = field(default_factory=dict)
    #: Where file secrets are rewritten on a change.
    files: SecretFiles | None = None
    #: How a change reaches the command instead of a restart (``--on-change signal:NAME``).
    reload: Reload | None = None
    #: Called with the secret values of each new environment (``--mask`` hides them from then on).
    on_values: Callable[[list[str | bytes]], None] | None = None


class Watcher:
    """Compares each secret's VersionId (or parameter's version) on every poll; it needs only what a run
    needs. A :class:`~.loop.Poller`: the loop waits ``policy.delay(failures)`` between polls."""

    def __init__(
        self,
        injection: Injection,
        target: WatchTarget,
        *,
        policy: RetryPolicy,
        log: Callable[[str], None],
        source: Source | None = None,
    ) -> None:
        """``source``: the one polls use, if not the run's (a poll should fail fast and back off, not retry
        for long)."""
        self.injection = injection
        self.command, self.env = list(target.command), dict(target.env)
        self.files, self.reload, self.on_values = target.files, target.reload, target.on_values
        self.policy, self.log = policy, log
        self.source: Source = source or injection.source
        self.versions = {loc: p.version_id for loc, p in injection.payloads.items()}
        #: Polls failed in a row.
        self.failures = 0
        self._rejected: tuple[object, ...] | None = None  # the last rotation that could not be injected

    def poll(self) -> dict[str, str] | None:
        """A new environment when a secret changed and still injects cleanly; None to keep the child."""
        locators = list(self.versions)
        results = self.source.fetch_each(locators)
        failed = [r for r in results.values() if isinstance(r, EnvinjectError)]
        if failed:
            self.failures += 1
            self.log(f"watch: poll failed, the command keeps running ({failed[0]}); next try in about "
                     f"{self.policy.backed_off(self.failures):g}s")  # fmt: skip
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
            if self.on_values is not None:  # masked before a rewritten file can show them
                self.on_values(secret_values(bindings))
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
        return self._deliver(names, env)

    def _deliver(self, names: str, env: dict[str, str]) -> dict[str, str] | None:
        """Signal the command if that delivers the change (None); else the environment to restart it with."""
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
