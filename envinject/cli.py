"""The command line. typer only: parse options, call the core, turn errors into one line and an exit code."""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer._click.exceptions import ClickException, NoSuchOption, UsageError  # typer vendors click; no public names
from typer._click.utils import PacifyFlushWrapper
from typer.core import TyperCommand, TyperGroup, TyperOption

from . import __version__
from .errors import EXIT_FAILURE

_COMPLETION = ("--install-completion", "--show-completion")
#: Set by the completion scripts when the shell asks for completions (click: _{PROG}_COMPLETE).
_COMPLETE_VAR = "_ENVINJECT_COMPLETE"
_GROUP_WORDS = {"-h", "--help", "--version", *_COMPLETION}


class _RunByDefault(TyperGroup):
    """``envinject [OPTIONS] -- CMD`` means ``envinject run [OPTIONS] -- CMD``; so the top-level help shows
    run's usage and options too, and a bare ``envinject`` prints that usage."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            typer.echo(ctx.get_usage() + f"\nTry '{ctx.command_path} --help' for the options.", err=True)
            raise typer.Exit(2)
        if args and args[0] in _COMPLETION and (len(args) == 1 or args[1].startswith("-")):
            args = [f"{args[0]}=", *args[1:]]  # no SHELL given: the detected one
        if args and args[0] == "help":  # envinject help [COMMAND], as git and pip read it
            args = [args[1], "--help"] if len(args) > 1 and args[1] in self.commands else ["--help"]
        if args and args[0] not in self.commands and args[0].split("=", 1)[0] not in _GROUP_WORDS:
            if not args[0].startswith("-"):
                self._refuse_mistyped(args[0], ctx)
            args = ["run", *args]
        if args and args[0] == "run":
            self._refuse_misplaced(args[1:], ctx)
        if args and args[0] in self.commands:
            missing = _missing_value(self.commands[args[0]], args[1:])
            if missing is not None:
                raise UsageError(f"{missing} needs a value", ctx=ctx)
        return super().parse_args(ctx, args)

    def _refuse_mistyped(self, word: str, ctx: Any) -> None:
        """``envinject exprot ...``: a word close to a command's name, and no program of that name, is a typo
        (a program on PATH runs as it always has)."""
        near = difflib.get_close_matches(word, list(self.commands), n=1, cutoff=0.6)
        if near and shutil.which(word) is None:
            raise _WordError(f"unknown command {word[:40]!r} (did you mean {near[0]}?)", ctx=ctx)

    def _refuse_misplaced(self, args: list[str], ctx: Any) -> None:
        """``envinject --timeout 2 export ...`` or ``envinject -o x.env export ...``: run's options, then another
        command's name where the program would be, or an option run does not take and that command does; unless
        a program of that name is on PATH."""
        words = args[: args.index("--")] if "--" in args else args
        named = next((w for w in words if w in self.commands and w != "run" and shutil.which(w) is None), None)
        if named is None:
            return
        run = [p for p in self.commands["run"].params if isinstance(p, TyperOption)]
        takes_value = {o for p in run if not p.is_flag and not p.count for o in p.opts}
        known = {o for p in run for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
        i = 0
        while i < len(words):
            word = words[i].split("=", 1)[0]
            if not word.startswith("-"):
                misplaced = word == named
                break
            if word not in known and not _short_flags_known(word, known):
                misplaced = True  # an option run does not take: the other command's, written before its name
                break
            # An option's value (--timeout 2, -vs NAME) is not the program.
            last = word if word.startswith("--") else f"-{word[-1]}"
            i += 2 if last in takes_value and "=" not in words[i] else 1
        else:
            misplaced = False
        if misplaced:
            raise _WordError(
                f"options of {named} go after the word {named}: envinject {named} [OPTIONS]", ctx=ctx, see=named
            )

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] -- COMMAND [ARGS]...")
        formatter.write_usage(ctx.command_path, "run|export|render|check|policy|push [OPTIONS] ...", prefix="       ")

    def format_options(self, ctx: Any, formatter: Any) -> None:
        run_command = self.commands["run"]
        with typer.Context(run_command, info_name="run", parent=ctx) as run_ctx:
            params = [p for p in run_command.get_params(run_ctx) if p.name != "help"]
            rows = [r for r in (p.get_help_record(run_ctx) for p in params) if r]
        with formatter.section("Run options (envinject [OPTIONS] -- COMMAND is envinject run)"):
            formatter.write_dl(rows)
        super().format_options(ctx, formatter)


def _short_flags_known(word: str, known: set[str]) -> bool:
    """Whether ``-vs`` (short flags run together) are all options run takes."""
    return not word.startswith("--") and len(word) > 2 and all(f"-{c}" in known for c in word[1:])


class _WordError(UsageError):
    """A mistyped or misplaced command name: a usage error that ends with 2, as a shell's does."""

    exit_code = 2

    def __init__(self, message: str, ctx: Any, see: str | None = None) -> None:
        super().__init__(message, ctx=ctx)
        #: The command whose help to point at, when it is not the one being parsed.
        self.see = see


class _PlainUsage(TyperCommand):
    """Usage shows a required argument as FILE, where typer writes {FILE}."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


def _missing_value(command: Any, args: list[str]) -> str | None:
    """The option in ``args`` whose value is missing: followed by ``--`` (``--secret -- true`` is no secret
    named ``--``) or by another of the command's options, which click would take as the value."""
    options = [p for p in command.params if isinstance(p, TyperOption)]
    takes_value = {name for p in options if not p.is_flag and not p.count for name in p.opts}
    names = {name for p in options for name in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
    interspersed = command.context_settings.get("allow_interspersed_args", True)
    i = 0
    while i < len(args) and args[i] != "--":
        arg, given = args[i], None
        if arg in takes_value:
            given = args[i + 1] if i + 1 < len(args) else None
        elif arg.startswith("-") and not arg.startswith("--"):  # -vs VALUE: short flags, the last one taking it
            for j, letter in enumerate(arg[1:], start=2):
                if f"-{letter}" in takes_value:
                    given = args[i + 1] if j == len(arg) and i + 1 < len(args) else None
                    arg = f"-{letter}" if j == len(arg) else ""
                    break
        elif not arg.startswith("-") and not interspersed:
            return None  # the command and its arguments
        if given is not None and (given == "--" or given in names):
            return arg
        i += 2 if given is not None else 1
    return None


app = typer.Typer(
    cls=_RunByDefault,
    name="envinject",
    help="Inject AWS Secrets Manager secrets and SSM parameters into a command's environment, then exec it.\n\n"
    "envinject --secret APIKEYS -- python bot.py",
    add_completion=False,  # our own --show-completion/--install-completion, which take an optional SHELL
    rich_markup_mode=None,  # plain help: rich costs ~100 ms of imports on every --help
    pretty_exceptions_enable=False,  # a traceback must never show locals, which may hold values
    context_settings={"help_option_names": ["-h", "--help"]},
)


Region = Annotated[
    str | None,
    typer.Option(metavar="REGION", help="AWS region [default: AWS_REGION, then AWS_DEFAULT_REGION, then region "
                 "in the config file, then the profile's].", show_default=False),
]  # fmt: skip
Profile = Annotated[
    str | None, typer.Option(metavar="PROFILE", help="AWS profile [default: AWS_PROFILE].", show_default=False)
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url", metavar="URL", help="Endpoint for Secrets Manager and SSM [default: "
        "AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL].", show_default=False,
    ),
]  # fmt: skip
Timeout = Annotated[
    float | None,
    typer.Option(metavar="SECONDS", help="Seconds for fetching everything, retries included; then exit 125 "
                 "[default: 30].", show_default=False),
]  # fmt: skip
MaxAttempts = Annotated[
    int | None,
    typer.Option("--max-attempts", metavar="N", help="Tries per request on throttling or 5xx, within --timeout "
                 "[default: 20].", show_default=False),
]  # fmt: skip
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Say what envinject does on stderr (never values).")]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        show_default=False,
        help=("Read settings from FILE [default: the nearest envinject.toml or pyproject.toml with [tool.envinject]]."),
    ),
]
NoConfig = Annotated[bool | None, typer.Option("--no-config", show_default=False, help="Read no config file.")]


def _opt(*flags: str, help: str, metavar: str | None = None, complete: Callable[[str], list[str]] | None = None) -> Any:
    """An option as every command writes it; ``complete`` gives the shell's completions for its value."""
    return typer.Option(*flags, help=help, metavar=metavar, show_default=False, autocompletion=complete)


def _export_formats(incomplete: str) -> list[str]:
    from .rules.formats import FORMATS

    return [name for name in FORMATS if name.startswith(incomplete)]


def _template_formats(incomplete: str) -> list[str]:
    from .rules.template import ESCAPERS

    return [name for name in ESCAPERS if name.startswith(incomplete)]


def _vias(incomplete: str) -> list[str]:
    from .sources.agent import VIAS

    return [name for name in VIAS if name.startswith(incomplete)]


def _name_cases(incomplete: str) -> list[str]:
    from .rules.naming import NAME_CASES

    return [name for name in NAME_CASES if name.startswith(incomplete)]


Prefix = Annotated[str | None, _opt("--prefix", metavar="PREFIX", help=(
    "Put PREFIX in front of every name made from a key."))]  # fmt: skip
NameCase = Annotated[str | None, _opt("--name-case", metavar="CASE", complete=_name_cases, help=(
    "upper, lower or keep: the case of names made from keys [default: upper]."))]  # fmt: skip

Stage = Annotated[str | None, _opt("--stage", metavar="NAME", help=(
    "Use the stage NAME of the config file: its references, env files, region and role over the file's own "
    "[default: $ENVINJECT_STAGE, else the file's default-stage]."))]  # fmt: skip

#: The options every command that reads secrets shares (run, export, check, policy), added to each by
#: @_source_options. Their names are Settings' field names, plus config, no_config and no_resolve_env.
_SOURCE_OPTIONS: list[tuple[str, Any]] = [
    ("secrets", Annotated[list[str] | None, _opt("--secret", "-s", metavar="REF", help=(
        "Secret to inject: NAME, ARN, VAR=NAME, NAME#KEY, NAME?version-stage=S, P_*=NAME (P_ before each name), "
        "NAME-PREFIX*, sm://?tag:KEY=VALUE, ssm:///PARAM, ssm:///PATH/. "
        "Repeatable; a later one wins. "
        "Default: $ENVINJECT_SECRETS (comma or space separated)."))]),
    ("files", Annotated[list[str] | None, _opt("--file", metavar="VAR=REF", help=(
        "Put REF's value in a file only you can read, and VAR its path: a TLS key, a credentials JSON. "
        "Repeatable."))]),
    ("env_files", Annotated[list[str] | None, _opt("--env-file", "-e", metavar="FILE", help=(
        "A .env template: sm:// and ssm:// values are fetched, others pass through. Repeatable."))]),
    ("prefix", Prefix),
    ("keep_case", Annotated[bool | None, _opt("--keep-case/--upper-case", help="Keep the keys' case "
                                              "[default: uppercase].")]),
    ("name_case", NameCase),
    ("layered", Annotated[bool | None, _opt("--layered/--no-layered", help=(
        "The secrets are layers: a later one replaces an earlier one's variables without a warning "
        "[default: warn]."))]),
    ("require", Annotated[list[str] | None, _opt("--require", metavar="VAR", help=(
        "Fail unless VAR is set in the end. Repeatable."))]),
    ("allow", Annotated[list[str] | None, _opt("--allow", metavar="VAR", help=(
        "Let secrets set protected VAR (PATH, LD_PRELOAD...). Repeatable."))]),
    ("override", Annotated[bool | None, _opt("--override/--no-override", help=(
        "Secrets replace inherited variables [default: override]."))]),
    ("pristine", Annotated[bool | None, _opt("--pristine/--inherit", help=(
        "Give the command only the injected variables [default: inherit]."))]),
    ("batch", Annotated[bool | None, _opt("--batch/--no-batch", help=(
        "Fetch several secrets with BatchGetSecretValue [default: batch]."))]),
    ("resolve_env", Annotated[list[str] | None, _opt("--resolve-env", metavar="NAME", help=(
        "Resolve the sm:// or ssm:// reference in inherited variable NAME, or in every PREFIX*; repeatable, and "
        "then only these [default: $ENVINJECT_RESOLVE_ENV, else every variable, but none under CI]."))]),
    ("no_resolve_env", Annotated[bool | None, _opt("--no-resolve-env", help=(
        "Resolve no reference in inherited variables: pass them through as they are."))]),
    ("region", Region),
    ("profile", Profile),
    ("endpoint_url", Endpoint),
    ("via", Annotated[str | None, _opt("--via", metavar="HOW", complete=_vias, help=(
        "auto, agent or api: read Secrets Manager through the local agent (auto: when its token is there) or "
        "the API [default: $ENVINJECT_VIA, else auto]."))]),
    ("agent_url", Annotated[str | None, _opt("--agent-url", metavar="URL", help=(
        "Where the Secrets Manager agent or Lambda extension listens "
        "[default: $ENVINJECT_AGENT_URL, else http://localhost:2773]."))]),
    ("role", Annotated[str | None, _opt("--role", metavar="ARN", help=(
        "Read the references that name no ?role= with this IAM role, assumed once per start "
        "[default: $ENVINJECT_ROLE, else the caller's own credentials]."))]),
    ("failover_regions", Annotated[list[str] | None, _opt("--failover-region", metavar="REGION[,REGION]", help=(
        "Read a secret's replica in REGION, in order, when its own region does not answer (time-outs, "
        "throttling, 5xx); never on not found or access denied."))]),
    ("timeout", Timeout),
    ("max_attempts", MaxAttempts),
    ("config", ConfigPath),
    ("no_config", NoConfig),
    ("stage", Stage),
]  # fmt: skip


def _source_options(*, without: tuple[str, ...] = ()) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the shared source options, less those it ``without`` takes: ``fn(own params..., **source)``
    receives them as ``source``. Its help then lists exactly what it accepts."""
    return functools.partial(_with_source_options, without=without)


def _with_source_options(fn: Callable[..., None], without: tuple[str, ...]) -> Callable[..., None]:
    sig = inspect.signature(fn, eval_str=True)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    shared = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=a)
        for n, a in _SOURCE_OPTIONS
        if n not in without
    ]

    @functools.wraps(fn)
    def command(**kwargs: Any) -> None:
        fn(**kwargs)

    del command.__wrapped__  # typer must read the signature below, not fn's
    command.__signature__ = sig.replace(parameters=own + shared)  # type: ignore[attr-defined]
    return command


def _version(value: bool) -> None:
    if value:
        typer.echo(f"envinject {__version__}")
        raise typer.Exit()


_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _completion(install: bool) -> Callable[[typer.Context, Any, str | None], None]:
    """typer's completion callbacks, with the shell named on the command line winning over the detected one."""

    def callback(ctx: typer.Context, param: Any, value: str | None) -> None:
        from typer.completion import install_callback, show_callback

        if value is None or ctx.resilient_parsing:
            return
        if value and value not in _SHELLS:
            raise typer.BadParameter(f"{value!r} is not a shell envinject completes; name one of {', '.join(_SHELLS)}")
        (install_callback if install else show_callback)(ctx, param, value or True)

    return callback


def _completion_option(flag: str, install: bool, help: str) -> Any:
    # SHELL is optional: _RunByDefault.parse_args writes a bare flag as FLAG= (the detected shell), so the option
    # takes a value like any other and needs none of click's optional-value flags.
    return typer.Option(
        flag, metavar="[SHELL]", callback=_completion(install), expose_value=False, is_eager=True, help=help,
        show_default=False,
    )  # fmt: skip


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    install_completion: Annotated[
        str | None,
        _completion_option("--install-completion", True, "Install completion for SHELL [default: the current one]."),
    ] = None,
    show_completion: Annotated[
        str | None,
        _completion_option(
            "--show-completion", False, "Print the completion script for SHELL [default: the current one]."
        ),
    ] = None,
) -> None:
    """Inject AWS Secrets Manager secrets and SSM parameters into a command's environment, then exec it."""


def _call(body: Callable[[], int]) -> NoReturn:
    """Run a command's function; its exit status ends the process. A failure ends it through exit_status, as on
    the fast path, before typer can end Ctrl-C or EOF its own way."""
    from .exits import exit_status

    try:
        status = body()
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - exit_status names only the type of an unexpected one
        status = exit_status(e)
    raise typer.Exit(status)


@app.command(
    context_settings={"allow_interspersed_args": False},
    help="Fetch the secrets and exec COMMAND with them in its environment (the default command).",
    short_help="Fetch the secrets and exec a command with them.",
)
@_source_options()
def run(
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="COMMAND...", help="The command and its arguments, after --.", show_default=False),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the names that would be set and the command; run nothing.")
    ] = False,
    init: Annotated[
        bool, typer.Option("--init", help="Stay as the parent (PID 1 in a container): forward signals, reap orphans.")
    ] = False,
    watch: Annotated[
        float | None,
        _opt(
            "--watch",
            metavar="SECONDS",
            help="Poll the secrets every SECONDS (+-10%); restart the command when one changes.",
        ),
    ] = None,
    mask: Annotated[
        bool, typer.Option("--mask", help="Pass the command's output through, with secret values replaced by *****.")
    ] = False,
    restart_on_exit: Annotated[
        bool, typer.Option("--restart-on-exit", help="With --watch: start the command again when it exits.")
    ] = False,
    stop_signal: Annotated[
        str, _opt("--stop-signal", metavar="SIGNAL", help="Signal that stops the command [default: SIGTERM].")
    ] = "SIGTERM",
    kill_timeout: Annotated[
        float, _opt("--kill-timeout", metavar="SECONDS", help="Wait this long after it, then SIGKILL [default: 10].")
    ] = 10.0,
    on_change: Annotated[
        str,
        _opt(
            "--on-change",
            metavar="ACTION",
            help=(
                "With --watch: restart, or signal:NAME to rewrite file secrets and send NAME (SIGHUP) instead; "
                "a changed variable still restarts [default: restart]."
            ),
        ),
    ] = "restart",
    accept_stale_env: Annotated[
        bool,
        typer.Option(
            "--accept-stale-env",
            help="With --on-change signal:NAME: signal even when a variable "
            "changed, which keeps its old value until the next restart.",
        ),
    ] = False,
    verbose: Verbose = False,
    **source: Any,
) -> None:
    from .commands import Log, load_settings
    from .commands.run import run as run_command
    from .options import RunOptions

    log = Log(verbose)
    options = RunOptions(
        command=command or [], dry_run=dry_run, init=init, watch=watch, mask=mask, restart_on_exit=restart_on_exit,
        stop_signal=stop_signal, kill_timeout=kill_timeout, on_change=on_change, accept_stale_env=accept_stale_env,
    )  # fmt: skip
    _call(lambda: run_command(load_settings(source, log), options, log))


@app.command(
    help="Write the injected variables (never the inherited ones) as dotenv, shell, json, docker or github.",
    short_help="Write the injected variables to a file or stdout.",
)
@_source_options(without=("files",))  # file secrets exist only while a command runs
def export(
    fmt: Annotated[
        str,
        _opt(
            "--format",
            "-f",
            metavar="FORMAT",
            help="dotenv (default), shell, json, docker or github.",
            complete=_export_formats,
        ),
    ] = "dotenv",
    output: Annotated[
        str | None, _opt("--output", "-o", metavar="FILE", help="Write to FILE (mode 0600); - is stdout [default: -].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing FILE.")] = False,
    github_mask: Annotated[
        bool, typer.Option("--github-mask", help="Also print ::add-mask:: commands to stdout (GitHub Actions).")
    ] = False,
    verbose: Verbose = False,
    **source: Any,
) -> None:
    from .commands import Log, load_settings
    from .commands.export import export as export_command
    from .options import ExportOptions

    log = Log(verbose)
    options = ExportOptions(fmt=fmt, output=output, force=force, github_mask=github_mask)
    _call(lambda: export_command(load_settings(source, log), options, log))


@app.command(
    cls=_PlainUsage,
    help="Render a template whose {{ sm://NAME#KEY }} tags are replaced by values, each escaped for the file's reader.",
    short_help="Render a config file from a template of references.",
)
@_source_options(without=("files",))
def render(
    template: Annotated[Path, typer.Argument(metavar="TEMPLATE", help="The template file.", show_default=False)],
    output: Annotated[
        str | None, _opt("--output", "-o", metavar="FILE", help="Write to FILE (mode 0600); - is stdout [default: -].")
    ] = None,
    fmt: Annotated[
        str | None,
        _opt(
            "--format",
            "-f",
            metavar="FORMAT",
            help=(
                "Write values for json, yaml, shell, dotenv, toml, ini, npmrc or properties (or url, raw) [default: "
                "from the template's name; a name that gives none needs it, or a format in each tag]."
            ),
            complete=_template_formats,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing FILE.")] = False,
    verbose: Verbose = False,
    **source: Any,
) -> None:
    from .commands import Log, load_settings
    from .commands.render import render as render_command
    from .options import RenderOptions

    log = Log(verbose)
    options = RenderOptions(template=template, output=output, fmt=fmt, force=force)
    _call(lambda: render_command(load_settings(source, log), options, log))


@app.command(
    help="Report, per reference, whether a run would work; set nothing and print no value.",
    short_help="Report, per reference, whether a run would work.",
)
@_source_options()
def check(
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
    verbose: Verbose = False,
    **source: Any,
) -> None:
    from .commands import Log, load_settings
    from .commands.check import check as check_command

    log = Log(verbose)
    _call(lambda: check_command(load_settings(source, log), log, json_output=json_output))


@app.command(
    help="Print the IAM policy (JSON) that a run of these secrets needs, and no more.",
    short_help="Print the IAM policy a run needs, and no more.",
)
@_source_options()
def policy(
    kms_key: Annotated[
        list[str] | None,
        _opt("--kms-key", metavar="ARN", help="A customer-managed KMS key the secrets use. Repeatable."),
    ] = None,
    account: Annotated[
        str | None, _opt("--account", metavar="ID", help="AWS account id [default: sts:GetCallerIdentity].")
    ] = None,
    partition: Annotated[
        str | None, _opt("--partition", metavar="NAME", help="AWS partition [default: the caller's, or aws].")
    ] = None,
    each_stage: Annotated[
        bool, typer.Option("--each-stage", help="One policy per stage of the config file, keyed by its name.")
    ] = False,
    verbose: Verbose = False,
    **source: Any,
) -> None:
    from .commands import Log, load_settings
    from .commands.policy import policy as policy_command

    log = Log(verbose)

    def settings() -> Any:
        if not each_stage:
            return load_settings(source, log)
        from .commands import stage_names

        return {name: load_settings({**source, "stage": name}, log) for name in stage_names(source, log)}

    _call(lambda: policy_command(settings(), log, kms_keys=kms_key or [], account=account, partition=partition))


@app.command(
    help="Compare the variables two sources give, never a value: each .env file, template, references "
    "(comma or space separated) or stage:NAME. Exit 0: no drift; 1: drift; 125: a source could not be read.",
    short_help="Show the drift between two sources, never a value.",
)
@_source_options(
    without=(
        "secrets",
        "files",
        "env_files",
        "stage",
        "resolve_env",
        "no_resolve_env",
        "pristine",
        "override",
        "require",
    )
)
def diff(
    sides: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[A] [B]", help="Each a .env file or template, references, or stage:NAME.", show_default=False
        ),
    ] = None,
    stages: Annotated[
        list[str] | None, _opt("--stage", metavar="NAME", help="A side: the config file's stage NAME (twice: A, B).")
    ] = None,
    keys_only: Annotated[bool, typer.Option("--keys-only", help="Compare the names alone.")] = False,
    ignore: Annotated[
        list[str] | None,
        _opt("--ignore", metavar="PATTERN", help="Leave out names matching PATTERN (*, ?). Repeatable."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    github: Annotated[bool, typer.Option("--github", help="Print GitHub Actions annotations.")] = False,
    verbose: Verbose = False,
    **source: Any,
) -> None:
    from .commands import Log
    from .commands.diff import diff as diff_command
    from .options import DiffOptions

    log = Log(verbose)
    given = [*(sides or []), *(f"stage:{name}" for name in stages or [])]
    options = DiffOptions(sides=tuple(given), keys_only=keys_only, ignore=tuple(ignore or ()),
                          fmt="json" if json_output else "github" if github else "table")  # fmt: skip
    _call(lambda: diff_command(source, options, log))


@app.command(
    cls=_PlainUsage,
    help="Store a .env FILE in Secrets Manager as one JSON secret (created, or a new version added).",
    short_help="Store a .env file in Secrets Manager as one secret.",
)
def push(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The .env file to store.", show_default=False)],
    secret: Annotated[str, typer.Option("--secret", "-s", metavar="NAME", help="The secret to create or update.")],
    merge: Annotated[bool, typer.Option("--merge", help="Keep the secret's keys that FILE does not mention.")] = False,
    description: Annotated[
        str | None, _opt("--description", metavar="TEXT", help="Description for a new secret.")
    ] = None,
    kms_key_id: Annotated[str | None, _opt("--kms-key-id", metavar="KEY", help="KMS key for a new secret.")] = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: Endpoint = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="Seconds for everything push sends, retries included; then exit 125 [default: 30].",
            show_default=False,
        ),
    ] = None,
    max_attempts: MaxAttempts = None,
    config: ConfigPath = None,
    no_config: NoConfig = None,
    stage: Stage = None,
    prefix: Annotated[
        str | None,
        _opt(
            "--prefix",
            metavar="PREFIX",
            help=("The prefix a run puts before the secret's keys: FILE's PREFIX_KEY updates KEY."),
        ),
    ] = None,
    name_case: Annotated[
        str | None,
        _opt(
            "--name-case",
            metavar="CASE",
            complete=_name_cases,
            help=(
                "How a run spells names made from keys (upper, lower, keep): FILE's names are read back by it "
                "[default: upper]."
            ),
        ),
    ] = None,
    verbose: Verbose = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the key names that would be added, changed and removed.")
    ] = False,
    interpolate: Annotated[
        bool,
        typer.Option(
            "--interpolate",
            help="Expand ${...} references as python-dotenv's dotenv_values() does (keys set earlier "
            "in FILE, then the environment) before storing; without it they are stored as written.",
        ),
    ] = False,
) -> None:
    from .commands import Log, load_settings
    from .commands.push import push as push_command
    from .options import PushOptions

    log = Log(verbose)
    # The same settings as every other command: the command line, then the environment, then the config file.
    given = {"region": region, "profile": profile, "endpoint_url": endpoint_url, "timeout": timeout,
             "max_attempts": max_attempts, "config": config, "no_config": no_config, "prefix": prefix,
             "name_case": name_case, "stage": stage}  # fmt: skip
    options = PushOptions(
        file=file,
        secret=secret,
        merge=merge,
        description=description,
        kms_key_id=kms_key_id,
        dry_run=dry_run,
        interpolate=interpolate,
    )
    _call(lambda: push_command(load_settings(given, log), options, log))


def _usage_message(e: ClickException, ctx: Any) -> str:
    """click's message, without its closing full stop (a hint follows) and with a suggestion only for a near miss:
    click offers ``--verbose`` for ``--bogus``."""
    if isinstance(e, NoSuchOption) and ctx is not None:
        known = [o for p in ctx.command.get_params(ctx) for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
        near = difflib.get_close_matches(e.option_name, known, n=1, cutoff=0.75)
        near = near or [o for o in known if len(e.option_name) > 3 and o.startswith(e.option_name)][:1]
        return e.message + (f" (did you mean {near[0]}?)" if near else "")
    return e.format_message().rstrip(".")


def main() -> None:
    """Console entry point. Usage errors are one line and end with 125, as GNU env's own failures do."""
    from .exits import EXIT_INTERRUPTED, exit_status
    from .system.stdio import die_of_sigpipe, open_closed, write_stderr, write_stdout

    open_closed()
    if os.environ.get(_COMPLETE_VAR):
        # A shell asks for completions. add_completion=False (our own --install-completion takes an optional
        # SHELL) means typer never registers its shells' completion classes, so register them here.
        from typer._completion_classes import completion_init

        completion_init()
    try:
        code = app(standalone_mode=False)
        write_stdout("")  # what typer printed (--help): a failure to write it is reported here, not at exit
    except ClickException as e:
        ctx = getattr(e, "ctx", None)
        where = ctx.command_path if ctx else "envinject"
        if isinstance(e, _WordError) and e.see:
            where = f"envinject {e.see}"
        write_stderr(f"{_usage_message(e, ctx)}; see {where} --help")
        raise SystemExit(2 if isinstance(e, _WordError) else EXIT_FAILURE) from None
    except typer.Abort:
        raise SystemExit(EXIT_INTERRUPTED) from None
    except SystemExit:
        # typer meets EPIPE printing the help by wrapping the streams and exiting 1; end as coreutils does.
        if isinstance(sys.stdout, PacifyFlushWrapper):
            die_of_sigpipe()
        raise
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - exit_status names only the type of an unexpected one
        raise SystemExit(exit_status(e)) from None
    raise SystemExit(code if isinstance(code, int) else 0)
