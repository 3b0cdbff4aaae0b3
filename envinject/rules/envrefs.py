"""References written in the environment: ``DB_PASSWORD=sm://prod/db#password`` in the inherited environment
becomes the secret's value in the same name. Pure: the environment comes in as an argument.

Which inherited variables are references to resolve is one rule, :class:`EnvRefRule`, that the plan (what to
fetch, what the command no longer inherits) and "nothing to inject" both follow:

- names declared with ``--resolve-env NAME`` (or ``PREFIX*``): those, and only those, wherever envinject runs;
- none declared: every variable, except where a CI system set up the environment (:func:`ci_system`), and except
  the names other protocols fill from a remote party's text (:data:`REMOTE_TEXT`). A CI system fills variables
  from text that anyone who pushes a commit or opens a pull request writes (commit messages, titles, branch and
  tag names), under names of its own and under any name a workflow maps them to: no list of names can tell
  those apart, so under CI none is resolved unless declared;
- never envinject's own settings (``ENVINJECT_*``), and none at all with ``--no-resolve-env``.

A variable that starts like a reference and is not resolved keeps its value, with a warning that names it; so
does one that is not declared and does not parse. A declared variable that does not parse is an error. No
message shows a value: it may be a secret's (envinject inside envinject) or anyone's text (a commit message).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError, EnvinjectError
from ..records import field, record
from .envfile import Entry
from .naming import is_valid_name
from .refs import FILE_PREFIX, SCHEME, SSM_SCHEME, Ref, parse_ref

#: envinject's own settings are never references to resolve, whatever they hold (``ENVINJECT_SECRETS=sm://A``).
_OWN_PREFIX = "ENVINJECT_"

#: The variables that mark an environment a CI system set up: a system is detected when every variable of its
#: row is set (:func:`_is_set`). The rows are ci-info's vendor list (github.com/watson/ci-info, vendors.json),
#: each checked against the system's documentation of its predefined variables, less the markers that hosting
#: platforms also set where services run (Heroku's, Render's ``RENDER``, Vercel's ``VERCEL``, Netlify's
#: ``NETLIFY``), so that a service there still resolves its references; their builds set ``CI``. TaskCluster's
#: ``TASK_ID`` and ``RUN_ID`` are left out too: a batch job may well have both.
CI_SYSTEMS: dict[str, tuple[str, ...]] = {
    "GitHub Actions": ("GITHUB_ACTIONS",),
    "GitLab CI": ("GITLAB_CI",),
    "Buildkite": ("BUILDKITE",),
    "CircleCI": ("CIRCLECI",),
    "Jenkins": ("JENKINS_URL", "BUILD_ID"),
    "Hudson": ("HUDSON_URL",),
    "Azure Pipelines": ("TF_BUILD",),
    "AWS CodeBuild": ("CODEBUILD_BUILD_ARN",),
    "Bitbucket Pipelines": ("BITBUCKET_COMMIT",),
    "Travis CI": ("TRAVIS",),
    "AppVeyor": ("APPVEYOR",),
    "TeamCity": ("TEAMCITY_VERSION",),
    "Drone": ("DRONE",),
    "Gitea Actions": ("GITEA_ACTIONS",),
    "Bamboo": ("bamboo_planKey",),
    "Bitrise": ("BITRISE_IO",),
    "Buddy": ("BUDDY_WORKSPACE_ID",),
    "Cirrus CI": ("CIRRUS_CI",),
    "Codefresh": ("CF_BUILD_ID",),
    "Codemagic": ("CM_BUILD_ID",),
    "Semaphore": ("SEMAPHORE",),
    "Google Cloud Build": ("BUILDER_OUTPUT",),
    "Harness CI": ("HARNESS_BUILD_ID",),
    "GoCD": ("GO_PIPELINE_LABEL",),
    "Gerrit": ("GERRIT_PROJECT",),
    "Prow": ("PROW_JOB_ID",),
    "Screwdriver": ("SCREWDRIVER",),
    "Vela": ("VELA",),
    "Earthly": ("EARTHLY_CI",),
    "Appcircle": ("AC_APPCIRCLE",),
    "Agola CI": ("AGOLA_GIT_REF",),
    "Expo Application Services": ("EAS_BUILD",),
    "Xcode Cloud": ("CI_XCODE_PROJECT",),
    "Visual Studio App Center": ("APPCENTER_BUILD_ID",),
    "Vercel": ("NOW_BUILDER",),
    "Cloudflare Pages": ("CF_PAGES",),
    "Cloudflare Workers Builds": ("WORKERS_CI",),
    "LayerCI": ("LAYERCI",),
    "Nevercode": ("NEVERCODE",),
    "ReleaseHub": ("RELEASE_BUILD_ID",),
}
#: Set by most CI systems besides a marker of their own, and by some (Woodpecker, Codeship, Sourcehut) instead
#: of one; ci-info reads the same.
GENERIC_CI = ("CI", "CONTINUOUS_INTEGRATION", "CI_NAME")

#: Names that other protocols fill with a remote party's text, resolved only when declared: CGI's request
#: meta-variables (RFC 3875, section 4.1: a header becomes ``HTTP_*``), what an SSH client sends (sshd's
#: ``AcceptEnv``, which Debian and Ubuntu ship as ``LANG LC_*``; ``SSH_ORIGINAL_COMMAND``, sshd(8)) and a git
#: pusher's push options (``GIT_PUSH_OPTION_*``, githooks(5)).
REMOTE_TEXT = (
    "HTTP_*", "QUERY_STRING", "PATH_INFO", "PATH_TRANSLATED", "REQUEST_URI", "REMOTE_USER", "REMOTE_IDENT",
    "CONTENT_TYPE", "LANG", "LC_*", "SSH_ORIGINAL_COMMAND", "GIT_PUSH_OPTION_*",
)  # fmt: skip


def _is_set(environ: Mapping[str, str], name: str) -> bool:
    """A marker counts when it is set to anything but empty, ``false`` or ``0`` (``CI=false`` is a common way
    to say "not CI" to a build tool)."""
    return environ.get(name, "").strip().lower() not in ("", "false", "0")


def ci_system(environ: Mapping[str, str]) -> str | None:
    """The CI system that set up ``environ``, for messages (``"GitHub Actions"``; ``"a CI system (CI is set)"``
    for one known only by a generic variable), or None."""
    for name, markers in CI_SYSTEMS.items():
        if all(_is_set(environ, m) for m in markers):
            return name
    found = next((v for v in GENERIC_CI if _is_set(environ, v)), None)
    return f"a CI system ({found} is set)" if found else None


def matches(pattern: str, name: str) -> bool:
    """``NAME`` matches itself; ``PREFIX*`` every name that starts with PREFIX."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def looks_like_reference(value: str) -> bool:
    """Whether a value is written as a reference: ``sm://`` or ``ssm://``, or either after ``file:``. Bare ARNs
    never are: an app keeps an ARN as a plain setting."""
    return value.removeprefix(FILE_PREFIX).startswith((SCHEME, SSM_SCHEME))


@record(frozen=True)
class EnvRefRule:
    """Which inherited variables are references to resolve (the module's docstring states the rule)."""

    #: The setting: True (every variable, unless :attr:`ci`), False (none), or the declared names and prefixes.
    resolve: bool | tuple[str, ...] = True
    #: The CI system that set up the environment (:func:`ci_system`), or None.
    ci: str | None = None

    @classmethod
    def of(cls, resolve: bool | tuple[str, ...], environ: Mapping[str, str]) -> EnvRefRule:
        """The rule for this setting in this environment (CI matters only when nothing is declared)."""
        return cls(resolve, ci_system(environ) if resolve is True else None)

    def declares(self, name: str) -> bool:
        """Whether ``name`` is declared (``--resolve-env``)."""
        return isinstance(self.resolve, tuple) and any(matches(p, name) for p in self.resolve)

    def refusal(self, name: str) -> str | None:
        """Why a variable written as a reference is left as it is, for its warning; None when it is resolved."""
        if isinstance(self.resolve, tuple):
            return None if self.declares(name) else "--resolve-env does not name it"
        if self.ci is not None:
            return f"under {self.ci} only the variables named by --resolve-env are resolved"
        if any(matches(p, name) for p in REMOTE_TEXT):
            return "other programs fill it with a remote party's text; name it with --resolve-env to resolve it"
        return None


def _read(name: str, value: str, rule: EnvRefRule) -> Ref | ConfigError | str | None:
    """What one inherited variable is under ``rule``: a reference to resolve, a declared one that cannot be (the
    error), one left as it is (the warning), or nothing to do with envinject (None)."""
    if rule.resolve is False or not looks_like_reference(value):
        return None
    if name.startswith(_OWN_PREFIX) or not is_valid_name(name):
        return None
    refused = rule.refusal(name)
    if refused is not None:
        return f"{name} is written as a reference and is left as it is: {refused}"
    try:
        return parse_ref(f"{name}={value}")
    except EnvinjectError:
        # The parser's message quotes the text, which may be a secret's value or anyone's commit message.
        if not rule.declares(name):
            return f"{name} starts like a reference but is none ({len(value)} characters, not shown); left as it is"
        return ConfigError(
            f"the environment variable {name} holds a reference that cannot be read ({len(value)} characters, "
            "not shown)",
            hint=f"write it as sm://NAME#KEY or ssm:///PATH/NAME, or leave {name} out of --resolve-env",
        )


def is_environment_reference(name: str, value: str, rule: EnvRefRule) -> bool:
    """Whether an inherited variable is a reference to resolve under ``rule`` (a declared one that cannot be read
    counts: it is an error, not a value to pass on)."""
    return isinstance(_read(name, value, rule), Ref | ConfigError)


@record
class EnvironmentRefs:
    """What the inherited environment holds for envinject, by :class:`EnvRefRule`."""

    #: ``($NAME, reference)`` for each variable to resolve, in the environment's order.
    entries: list[tuple[str, Entry]] = field(default_factory=list)
    #: One line per variable written as a reference and left as it is (names only).
    warnings: list[str] = field(default_factory=list)
    #: One per declared variable whose reference cannot be read (names only).
    errors: list[ConfigError] = field(default_factory=list)


def environment_refs(environ: Mapping[str, str], rule: EnvRefRule) -> EnvironmentRefs:
    """Read every inherited variable by ``rule``; a bad one is an error in the result, not an exception. Pure."""
    out = EnvironmentRefs()
    for name, value in environ.items():
        found = _read(name, value, rule)
        if isinstance(found, Ref):
            out.entries.append((f"${name}", found))
        elif isinstance(found, ConfigError):
            out.errors.append(found)
        elif found is not None:
            out.warnings.append(found)
    return out


def is_declarable(pattern: str) -> bool:
    """Whether ``--resolve-env`` takes ``pattern``: a name, or a name's start followed by ``*``. A lone ``*``
    is not one: it would let a CI system's commit messages choose secrets again."""
    return is_valid_name(pattern.removesuffix("*"))
