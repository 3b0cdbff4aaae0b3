"""The command line. typer only: parse options, call the core, turn errors into one line and an exit code."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer._click.exceptions import ClickException  # typer vendors click; no public name for it
from typer.core import TyperGroup

from . import __version__
from .errors import EXIT_FAILURE, EnvinjectError

_GROUP_WORDS = {"-h", "--help", "--version", "--install-completion", "--show-completion"}


class _RunByDefault(TyperGroup):
    """``envinject [OPTIONS] -- CMD`` means ``envinject run [OPTIONS] -- CMD``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in _GROUP_WORDS:
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    name="envinject",
    help="Inject AWS Secrets Manager secrets into a command's environment, then exec it.\n\n"
    "envinject --secret APIKEYS -- python bot.py",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # a traceback must never show locals, which may hold values
    context_settings={"help_option_names": ["-h", "--help"]},
)

Secrets = Annotated[
    list[str] | None,
    typer.Option(
        "--secret",
        "-s",
        metavar="REF",
        help="Secret to inject: NAME, ARN, VAR=NAME, NAME#KEY, NAME?version-stage=S. Repeatable; "
        "a later one wins. Default: $ENVINJECT_SECRETS (comma or space separated).",
        show_default=False,
    ),
]
EnvFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--env-file",
        "-e",
        metavar="FILE",
        help="A .env template: sm:// values are fetched, others pass through. Repeatable.",
        show_default=False,
    ),
]
Prefix = Annotated[
    str | None, typer.Option(help="Put PREFIX in front of every name made from a JSON key.", show_default=False)
]
KeepCase = Annotated[
    bool | None,
    typer.Option("--keep-case/--upper-case", help="Keep the keys' case [default: uppercase].", show_default=False),
]
Require = Annotated[
    list[str] | None,
    typer.Option("--require", metavar="VAR", help="Fail unless VAR is set in the end. Repeatable.", show_default=False),
]
Allow = Annotated[
    list[str] | None,
    typer.Option(
        "--allow",
        metavar="VAR",
        help="Let secrets set protected VAR (PATH, LD_PRELOAD...). Repeatable.",
        show_default=False,
    ),
]
Override = Annotated[
    bool | None,
    typer.Option(
        "--override/--no-override", help="Secrets replace inherited variables [default: override].", show_default=False
    ),
]
Pristine = Annotated[
    bool | None,
    typer.Option(
        "--pristine/--inherit",
        help="Give the command only the injected variables [default: inherit].",
        show_default=False,
    ),
]
Batch = Annotated[
    bool | None,
    typer.Option(
        "--batch/--no-batch",
        help="Fetch several secrets with BatchGetSecretValue [default: batch].",
        show_default=False,
    ),
]
Region = Annotated[
    str | None, typer.Option(help="AWS region [default: AWS_REGION, then the profile's].", show_default=False)
]
Profile = Annotated[str | None, typer.Option(help="AWS profile [default: AWS_PROFILE].", show_default=False)]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Secrets Manager endpoint [default: AWS_ENDPOINT_URL_SECRETS_MANAGER].",
        show_default=False,
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(help="Seconds to wait for a connection or an answer [default: 10].", min=0.1, show_default=False),
]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Read settings from FILE [default: the nearest envinject.toml or pyproject.toml with [tool.envinject]].",
        show_default=False,
    ),
]
NoConfig = Annotated[bool, typer.Option("--no-config", help="Read no config file.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Say what envinject does on stderr (never values).")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"envinject {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Inject AWS Secrets Manager secrets into a command's environment, then exec it."""


def _fail(err: EnvinjectError) -> NoReturn:
    typer.echo(f"envinject: {err}", err=True)
    raise typer.Exit(err.exit_code) from None


def _settings(cli: dict[str, Any], config_path: Path | None, no_config: bool, note: Any) -> Any:
    """Settings from the command line, the environment and the config file, in that order of precedence."""
    import os

    from .config import find_config, load_config, resolve_settings

    config = None
    if config_path is not None:
        config = load_config(config_path)
        if config is None:
            raise EnvinjectError(
                f"{str(config_path)!r} has no [tool.envinject] table", hint="add one, or drop --config"
            )
    elif not no_config:
        config = find_config(Path.cwd())
    if config is not None:
        note(f"config: {config.path}")
    return resolve_settings(cli, os.environ, config)


@app.command(
    context_settings={"allow_interspersed_args": False},
    help="Fetch the secrets and exec COMMAND with them in its environment (the default command).",
)
def run(
    command: Annotated[
        list[str] | None, typer.Argument(help="The command and its arguments, after --.", show_default=False)
    ] = None,
    secret: Secrets = None,
    env_file: EnvFiles = None,
    prefix: Prefix = None,
    keep_case: KeepCase = None,
    require: Require = None,
    allow: Allow = None,
    override: Override = None,
    pristine: Pristine = None,
    batch: Batch = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: Endpoint = None,
    timeout: Timeout = None,
    config: Config = None,
    no_config: NoConfig = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the names that would be set and the command; run nothing.")
    ] = False,
    verbose: Verbose = False,
) -> None:
    import os

    from .core import environment, inject
    from .environ import final_sources
    from .process import exec_command

    def note(msg: str) -> None:
        if verbose:
            typer.echo(f"envinject: {msg}", err=True)

    cli = {
        "secrets": secret, "env_files": [str(p) for p in env_file or ()], "prefix": prefix, "keep_case": keep_case,
        "require": require, "allow": allow, "override": override, "pristine": pristine, "batch": batch,
        "region": region, "profile": profile, "endpoint_url": endpoint_url, "timeout": timeout,
    }  # fmt: skip
    try:
        if not command:
            raise EnvinjectError("no command given", hint="write envinject --secret NAME -- COMMAND [ARGS...]")
        settings = _settings(cli, config, no_config, note)
        if not settings.secrets and not settings.env_files:
            note("no secrets given; running the command with the inherited environment")
        injection = inject(settings, note=note)
        env = environment(settings, injection.bindings, os.environ)
        names = final_sources(injection.bindings)
        requests = ", ".join(f"{n} {op}" for op, n in injection.source.requests.items()) or "no requests"
        note(f"{len(names)} variable(s) from {len(settings.secrets)} reference(s), {requests}")
        if dry_run:
            for name, src in names.items():
                kept = "" if settings.override or name not in os.environ else "  (inherited value kept)"
                typer.echo(f"{name}\t<- {src}{kept}")
            typer.echo(f"exec: {shlex.join(command)}")
            return
        exec_command(command, env, search_path=os.environ.get("PATH"))
    except EnvinjectError as err:
        _fail(err)


@app.command(help="Store a .env FILE in Secrets Manager as one JSON secret (created, or a new version added).")
def push(
    file: Annotated[Path, typer.Argument(help="The .env file to store.", show_default=False)],
    secret: Annotated[str, typer.Option("--secret", "-s", metavar="NAME", help="The secret to create or update.")],
    merge: Annotated[bool, typer.Option("--merge", help="Keep the secret's keys that FILE does not mention.")] = False,
    description: Annotated[str | None, typer.Option(help="Description for a new secret.", show_default=False)] = None,
    kms_key_id: Annotated[
        str | None, typer.Option("--kms-key-id", help="KMS key for a new secret.", show_default=False)
    ] = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: Endpoint = None,
    timeout: Timeout = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the key names that would be added, changed and removed.")
    ] = False,
) -> None:
    from .config import Settings
    from .envfile import Literal, read_envfile
    from .push import apply_push, current_content, plan_push
    from .sources.aws import AwsSettings, ClientFactory

    try:
        pairs = {e.name: e.value for _, e in read_envfile(file, refs=False) if isinstance(e, Literal)}
        defaults = Settings()
        factory = ClientFactory(
            AwsSettings(region=region, profile=profile, endpoint_url=endpoint_url, timeout=timeout or defaults.timeout)
        )
        client = factory.client("secretsmanager")
        plan = plan_push(current_content(client, secret), pairs, merge=merge)
        verb = "update" if plan.exists else "create"
        lines = [f"{'would ' if dry_run else ''}{verb} secret {secret!r}"]
        lines += [f"  {mark} {key}" for mark, keys in (("+", plan.added), ("~", plan.changed), ("-", plan.removed))
                  for key in keys]  # fmt: skip
        if not dry_run:
            version = apply_push(client, secret, plan, description=description, kms_key_id=kms_key_id)
            lines[0] = f"{verb}d secret {secret!r} (version {version})"
        typer.echo("\n".join(lines))
    except EnvinjectError as err:
        _fail(err)


def main() -> None:
    """Console entry point. Usage errors are one line and end with 125, as GNU env's own failures do."""
    try:
        code = app(standalone_mode=False)
    except ClickException as e:
        where = e.ctx.command_path if getattr(e, "ctx", None) else "envinject"  # type: ignore[attr-defined]
        if e.format_message():  # empty when the help was shown for a bare `envinject`
            sys.stderr.write(f"envinject: {e.format_message()}; see {where} --help\n")
        raise SystemExit(EXIT_FAILURE) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except Exception as e:  # noqa: BLE001 - the message may quote a value, so only the type is shown
        sys.stderr.write(f"envinject: internal error ({type(e).__name__}); please report it\n")
        raise SystemExit(EXIT_FAILURE) from None
    raise SystemExit(code if isinstance(code, int) else 0)
