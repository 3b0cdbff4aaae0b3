"""The one plan: from Settings and the inherited environment to everything a run needs.

Every command, the watcher and the Python API go the same way down, and a rule added later is added here
(or in the pure rules this calls), never beside it::

    plan = make_plan(settings, inherited)       # parse references, env files and templates; no request
    results = plan.fetch(source)                # every secret once, batched per backend
    bindings = plan.bind(results)               # naming, prefixes, protected names, precedence, file content
    env = plan.environment(bindings)            # inherited (or nothing) + bindings, --require checked

``check`` makes the same plan with ``collect=True`` (a bad reference is a problem to report, not a stop), asks
for each secret's outcome with ``fetch_each`` and hands :meth:`Plan.bind` an ``outcome`` callback; the watcher
hands each poll's payloads to :meth:`Plan.bind` again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError, EnvinjectError, quote
from .records import field, record
from .rules.bindings import (
    ENV_FILE,
    FileTemplate,
    Layered,
    Naming,
    Options,
    Outcome,
    Refusal,
    bind_all,
    bind_templates,
    layered_entries,
    protected_error,
    template_refusals,
)
from .rules.envfile import Entry, parse_envfile
from .rules.environment import Binding, kept, merge, missing
from .rules.envrefs import EnvRefRule, environment_refs, is_environment_reference
from .rules.payload import Payload
from .rules.refs import Locator, Ref, file_template, parse_file_ref, parse_ref
from .rules.retry import RetryPolicy
from .rules.template import check_template, format_for, parse_template
from .settings import Settings
from .sources import SERVICES, Route, Source, Sources, backend_source
from .sources.aws import AwsSettings, ClientFactory, translate
from .sources.endpoints import endpoint

T = TypeVar("T")


@record
class Plan:
    """What a run of these settings reads and sets, worked out before any request."""

    settings: Settings
    #: The environment the command would inherit.
    inherited: Mapping[str, str]
    #: Every env-file line, environment reference and reference, with its precedence layer and where it was
    #: written, in the order given.
    layered: list[Layered]
    #: File secrets rendered from a template (``--file VAR=@TEMPLATE``, and render's template), bound last.
    templates: list[FileTemplate]
    #: The rules that turn fetched secrets into bindings.
    options: Options
    #: What could not be parsed, when the plan was made with ``collect=True`` (for check).
    problems: list[str] = field(default_factory=list)
    #: Which inherited variables are references to resolve (none when the environment is not read for them).
    env_refs: EnvRefRule = field(default_factory=lambda: EnvRefRule(False))

    @property
    def locators(self) -> list[Locator]:
        """Every secret the plan reads, each once, in the order first named (templates' references last)."""
        named = [e.locator for _, _, e in self.layered if isinstance(e, Ref)]
        in_templates = [ref.locator for t in self.templates for ref in t.template.refs]
        return list(dict.fromkeys([*named, *in_templates]))

    def fetch(self, source: Source) -> Mapping[Locator, Payload]:
        """Every secret's payload, in as few requests as the backends allow; all-or-nothing. A failure for a
        secret that an env file asked for names that file and line."""
        wanted = self.locators
        try:
            return source.fetch_many(wanted) if wanted else {}
        except EnvinjectError as e:
            asked = next((x for x in self.layered if isinstance(x[2], Ref) and x[2].locator == e.subject), None)
            if asked is not None and asked[0] == ENV_FILE:
                raise type(e)(f"{asked[1]}: {e.message}", hint=e.hint, kind=e.kind) from None
            raise

    def bind(
        self,
        results: Mapping[Locator, Payload | EnvinjectError],
        *,
        outcome: Outcome | None = None,
        warn: Callable[[str], None] | None = None,
        note: Callable[[str], None] | None = None,
    ) -> list[Binding]:
        """The bindings, in precedence order, templates last. The first failure raises, unless ``outcome`` is
        given: then each reference's bindings or error goes to it (check), and a template's protected name is a
        problem. Every protected name of the run is refused in one error. ``warn`` hears of each variable a
        later secret takes over, and of a rendered .env value python-dotenv would expand; ``note`` of a secret
        that sets no variable."""
        refused: list[Refusal] = template_refusals(self.templates, self.options.allow)
        if refused and outcome is not None:
            self.problems.append(str(protected_error(refused)))
            refused = []
        bindings = bind_all(self.layered, results, self.options, outcome, warn, note, refused)
        if refused:
            raise protected_error(refused)
        return bindings + bind_templates(self.templates, results, bindings, self.inherited, self.options, outcome, warn)

    def base(self) -> dict[str, str]:
        """What the command inherits before the bindings: nothing with --pristine, and never a variable that
        held a reference to resolve (its value is the secret's, even with --no-override)."""
        if self.settings.pristine:
            return {}
        return {k: v for k, v in self.inherited.items() if not is_environment_reference(k, v, self.env_refs)}

    def environment(self, bindings: Sequence[Binding]) -> dict[str, str]:
        """The command's environment: :meth:`base`, then the bindings; --require checked."""
        env = merge(self.base(), bindings, override=self.settings.override)
        absent = missing(env, self.settings.require)
        if absent:
            raise ConfigError(
                f"required variable(s) not set: {', '.join(absent)}",
                hint="add a secret or env file that sets them, or drop --require",
            )
        return env

    def missing(self, bindings: Sequence[Binding]) -> list[str]:
        """The --require names a run would leave unset (for check, which reports rather than fails)."""
        return missing(merge(self.base(), bindings, override=self.settings.override), self.settings.require)

    def kept(self, bindings: Sequence[Binding]) -> list[str]:
        """Names whose inherited value stays (--no-override), for --dry-run and check."""
        return kept(self.base(), bindings, override=self.settings.override)


def environment_rule(settings: Settings, inherited: Mapping[str, str]) -> EnvRefRule:
    """Which variables of ``inherited`` are references to resolve, by --resolve-env and the CI system (if any)
    that set it up: the one rule for the plan and for "nothing to inject"."""
    return EnvRefRule.of(settings.resolve_env, inherited)


def make_plan(
    settings: Settings,
    inherited: Mapping[str, str],
    *,
    rendered: Sequence[FileTemplate] = (),
    collect: bool = False,
    environment_references: bool = True,
    warn: Callable[[str], None] | None = None,
) -> Plan:
    """Parse everything the settings name: references in the inherited environment (by
    :func:`environment_rule`, unless ``environment_references`` is off), env files, secrets, file secrets and
    their templates, then ``rendered`` (render's own template). Reads files, sends nothing. With ``collect``,
    what cannot be parsed is kept in ``problems`` and left out; otherwise it raises. ``warn`` hears of each
    inherited variable written as a reference and left as it is."""
    problems: list[str] = []

    def attempt(parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return parse(*args, **kwargs)
        except EnvinjectError as e:
            if not collect:
                raise
            problems.append(str(e))
            return None

    rule = environment_rule(settings, inherited) if environment_references else EnvRefRule(False)
    found = environment_refs(inherited, rule)
    if warn is not None:
        for message in found.warnings:
            warn(message)
    for error in found.errors:
        if not collect:
            raise error
        problems.append(str(error))
    env_files: list[list[tuple[str, Entry]]] = [found.entries]
    named_in = settings.from_config.get
    env_files += [attempt(read_envfile, path, named_in=named_in(path)) or [] for path in settings.env_files]
    parsed = [attempt(parse_ref, text) for text in settings.secrets]
    templates: list[FileTemplate | None] = []
    for text in settings.files:
        template = file_template(text)
        if template is None:
            parsed.append(attempt(parse_file_ref, text))
        else:
            templates.append(attempt(read_template, template[1], template[0], named_in=named_in(template[1])))
    options = Options(Naming(settings.prefix, settings.name_case), frozenset(settings.allow), settings.layered)
    layered = layered_entries([r for r in parsed if r is not None], env_files)
    return Plan(settings, inherited, layered, [*(t for t in templates if t), *rendered], options, problems, rule)


def read_envfile(
    path: str | Path,
    *,
    refs: bool = True,
    missing_hint: str = "check the path given to --env-file",
    named_in: str | None = None,
) -> list[tuple[str, Entry]]:
    """Read and parse one env file; a missing or unreadable file is a ConfigError naming it, with
    ``missing_hint`` (which says where the path was given: ``--env-file``, ``push``). ``named_in``: the config
    file that named it, which holds it to the config rule (:func:`read_named`)."""
    text = read_named(path, "env file", named_in, missing_hint=missing_hint)
    return list(parse_envfile(text, str(path), refs=refs))


def read_template(path: str, var: str, fmt: str | None = None, *, named_in: str | None = None) -> FileTemplate:
    """Read and parse a template file, and refuse what can be refused before any value is known (a tag with no
    format, a tag where nothing can be written); a missing or unreadable one is a ConfigError naming it.
    ``named_in``: as for :func:`read_envfile`."""
    text = read_named(path, "template", named_in, missing_hint="check the path")
    template, fmt = parse_template(text, path), fmt or format_for(path)
    check_template(template, fmt)
    return FileTemplate(var, template, fmt)


def _unreadable_hint(path: str | Path) -> str:
    """The path is right and the permissions are not: say whose file it is and who asked."""
    import os

    try:
        owner = os.stat(path).st_uid
    except OSError:
        return "check that you may read it and every folder above it"
    return f"it belongs to uid {owner} and envinject runs as uid {os.geteuid()}: check its permissions"


def read_named(path: str | Path, what: str, named_in: str | None, *, missing_hint: str) -> str:
    """The text of a file a run reads (an env file, a template). One named on the command line is read as it is;
    one a config file named (``named_in``) only if it may be obeyed, as the config file itself: yours or root's,
    writable by no one else, and so is every symbolic link on the way and the folder it sits in (git's
    ``safe.directory`` reasoning, :func:`~envinject.system.trust.read_trusted`)."""
    from .system.trust import Untrusted, read_trusted

    try:
        raw = read_trusted(path) if named_in is not None else Path(path).read_bytes()
        return raw.decode("utf-8")
    except Untrusted as e:
        raise ConfigError(
            f"{what} {quote(str(path))} named in {quote(named_in or '')} is not obeyed: {e.reason}",
            hint="make it yours and writable only by you, or name it on the command line",
        ) from None
    except OSError as e:
        hint = _unreadable_hint(path) if isinstance(e, PermissionError) else missing_hint
        raise ConfigError(f"{what} {quote(str(path))}: {e.strerror}", hint=hint) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{what} {quote(str(path))}: not UTF-8 text", hint="convert it to UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None


@record
class Injection:
    """A plan carried out: what was fetched, with what, and the bindings it gives."""

    plan: Plan
    source: Sources
    payloads: Mapping[Locator, Payload]
    bindings: list[Binding]
    #: The client factory it used (None when a client was given), for -v's timings.
    factory: ClientFactory | None = None


def inject(
    settings: Settings,
    *,
    client: Any = None,
    note: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    inherited: Mapping[str, str] | None = None,
    rendered: Sequence[FileTemplate] = (),
) -> Injection:
    """Make the plan, fetch every secret and bind: everything a run, export or render needs before it acts.
    ``inherited`` None: the environment is neither read for references nor inherited (the Python API)."""
    plan = make_plan(
        settings, inherited or {}, rendered=rendered, environment_references=inherited is not None, warn=warn
    )
    factory = client_factory(settings) if client is None else None
    source = make_source(settings, client=client, note=note, factory=factory)
    payloads = plan.fetch(source)
    return Injection(plan, source, payloads, plan.bind(payloads, warn=warn, note=note), factory)


def client_factory(settings: Settings) -> ClientFactory:
    """One factory (one botocore session) for everything a command does."""
    return ClientFactory(
        AwsSettings(
            region=settings.region,
            profile=settings.profile,
            profile_origin=settings.origins.get("profile"),
            endpoint_url=settings.endpoint_url,
            service_endpoints=settings.service_endpoints,
            timeout=settings.timeout,
            retry=RetryPolicy(attempts=settings.max_attempts),
        )
    )


def make_source(
    settings: Settings,
    *,
    client: Any = None,
    note: Callable[[str], None] | None = None,
    factory: ClientFactory | None = None,
    environ: Mapping[str, str] | None = None,
    refresh: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Sources:
    """The sources for these settings, one per route (a backend, and the role it is read with), made when a
    reference first needs it. ``client`` replaces the AWS client (tests, the API): a Secrets Manager client, or a
    mapping ``{"sm": ..., "ssm": ...}``. Otherwise Secrets Manager goes through the local agent when --via chooses
    one (``environ`` holds its token), ``refresh`` makes every request to it skip its cache (the watcher's polls),
    and a secret with failover regions is read from a replica when its own region does not answer (``warn`` hears
    when the region that serves it changes, for the watcher)."""
    if client is not None:
        clients = client if isinstance(client, Mapping) else {"sm": client}

        def given(backend: str) -> Any:
            if backend not in clients:
                raise ConfigError(
                    f"no client was given for {backend!r} references", hint=f'pass client={{"{backend}": ...}}'
                )
            return lambda _region: clients[backend]

        return Sources(lambda r: backend_source(r.backend, given(r.backend), batch=settings.batch, note=note))
    import os

    from .sources.agent import AgentSource, ThroughAgent, choose
    from .sources.failover import Failover, hedge_seconds

    told = note or (lambda _msg: None)
    agent = choose(settings.via, settings.agent_url, os.environ if environ is None else environ, told)
    made = factory or client_factory(settings)
    regions = tuple(r for given in settings.failover_regions for r in given.split(","))

    def api(route: Route) -> Source:
        def client_for(region: str | None, *, retries: bool = True) -> Any:
            return made.client(SERVICES[route.backend], region, retries=retries, role=route.role,
                               external_id=route.external_id)  # fmt: skip

        source = backend_source(
            route.backend,
            client_for,
            batch_client_for=lambda region: client_for(region, retries=False),
            batch=settings.batch,
            note=note,
        )
        return Failover(source, regions, hedge=hedge_seconds(settings.timeout), note=told, changed=warn)

    if agent is None:
        return Sources(api, role=settings.role)
    told(f"agent: {agent.url}, token from {agent.token_from}{'; every request skips its cache' if refresh else ''}")
    through = ThroughAgent(
        AgentSource(agent, timeout=settings.timeout, refresh=refresh),
        lambda: api(Route("sm")),
        settings.region,
        told,
    )

    def route_to(route: Route) -> Source:
        # The agent reads with its own role: a reference read with another goes to the API.
        return through if route == Route("sm") else api(route)

    return Sources(route_to, agent=through, role=settings.role)


def caller_arn(factory: ClientFactory) -> str:
    """The caller's ARN from sts:GetCallerIdentity (which needs no permission), or the reason there is none
    (no region, no credentials, an unknown profile, an unreachable endpoint) as the error a run would give."""
    client = factory.client("sts")
    try:
        return str(client.get_caller_identity()["Arn"])
    except Exception as e:  # noqa: BLE001 - one clear line
        raise translate(e, "the caller's identity", client, "sts:GetCallerIdentity") from None


def caller_identity(
    settings: Settings, note: Callable[[str], None], factory: ClientFactory | None = None
) -> str | None:
    """The caller's ARN, or None (noted) if it cannot be learnt: a report degrades, it does not fail."""
    try:
        return caller_arn(factory or client_factory(settings))
    except EnvinjectError as e:
        note(f"cannot tell who the caller is: {e}")
    return None


def run_endpoints(settings: Settings, environ: Mapping[str, str]) -> str:
    """The endpoint(s) a run talks to, for messages (best effort, no botocore): the same answer
    :func:`~envinject.sources.endpoints.endpoint` gives the clients."""
    try:
        backends = {loc.backend for loc in make_plan(settings, environ).locators}
    except EnvinjectError:
        backends = set()
    services = sorted(SERVICES[b] for b in backends) or ["secretsmanager"]
    region = settings.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "REGION"
    urls = [endpoint(service, region, settings, environ).url for service in services]
    from .sources.agent import choose

    try:
        agent = choose(settings.via, settings.agent_url, environ, lambda _msg: None)
    except EnvinjectError:
        agent = None
    if agent is not None:  # what it serves goes there; what it does not, and its fallbacks, to the API
        urls.insert(0, f"the Secrets Manager agent at {agent.url}")
    return " and ".join(dict.fromkeys(urls))
