"""The command line. typer only: parse options, call the core, turn errors into one line and an exit code."""

from __future__ import annotations

import re
import shlex
import sys
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
Prefix = Annotated[str, typer.Option(help="Put PREFIX in front of every name made from a JSON key.")]
KeepCase = Annotated[bool, typer.Option("--keep-case", help="Keep the keys' case instead of uppercasing.")]
Region = Annotated[str | None, typer.Option(help="AWS region [default: AWS_REGION, then the profile's].")]
Profile = Annotated[str | None, typer.Option(help="AWS profile [default: AWS_PROFILE].", show_default=False)]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Secrets Manager endpoint [default: AWS_ENDPOINT_URL_SECRETS_MANAGER].",
        show_default=False,
    ),
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for a connection or an answer.", min=0.1)]
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


def _refs(secrets: list[str] | None, environ: dict[str, str]) -> list[str]:
    if secrets:
        return secrets
    return [r for r in re.split(r"[,\s]+", environ.get("ENVINJECT_SECRETS", "")) if r]


@app.command(
    context_settings={"allow_interspersed_args": False},
    help="Fetch the secrets and exec COMMAND with them in its environment (the default command).",
)
def run(
    command: Annotated[
        list[str] | None, typer.Argument(help="The command and its arguments, after --.", show_default=False)
    ] = None,
    secret: Secrets = None,
    prefix: Prefix = "",
    keep_case: KeepCase = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: Endpoint = None,
    timeout: Timeout = 10.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the names that would be set and the command; run nothing.")
    ] = False,
    verbose: Verbose = False,
) -> None:
    import os

    from .environ import final_sources, merge
    from .inject import Naming, Options, resolve
    from .process import exec_command
    from .sources.aws import AwsSettings, ClientFactory
    from .sources.secretsmanager import SecretsManagerSource

    def note(msg: str) -> None:
        if verbose:
            typer.echo(f"envinject: {msg}", err=True)

    environ = dict(os.environ)
    try:
        if not command:
            raise EnvinjectError("no command given", hint="write envinject --secret NAME -- COMMAND [ARGS...]")
        refs = _refs(secret, environ)
        if not refs:
            note("no secrets given; running the command with the inherited environment")
        factory = ClientFactory(AwsSettings(region=region, profile=profile, endpoint_url=endpoint_url, timeout=timeout))
        source = SecretsManagerSource(lambda r: factory.client("secretsmanager", r), note=note)
        bindings = resolve(refs, source, Options(naming=Naming(prefix=prefix, keep_case=keep_case)))
        names = final_sources(bindings)
        note(f"{len(names)} variable(s) from {len(refs)} reference(s)")
        if dry_run:
            for name, src in names.items():
                typer.echo(f"{name}\t<- {src}")
            typer.echo(f"exec: {shlex.join(command)}")
            return
        exec_command(command, merge(environ, bindings))
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
