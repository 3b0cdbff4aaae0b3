"""Turn JSON key paths into environment variable names. Pure: the one naming pipeline for every command."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from ..records import record

_OUTSIDE = re.compile(r"[^A-Za-z0-9_]")
_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


#: --name-case: what happens to the letters of a name made from keys (never to a prefix or a VAR= name).
NAME_CASES = ("upper", "lower", "keep")


def env_name(path: Sequence[str], *, prefix: str = "", case: str = "upper") -> str:
    """Name for a key path: each key with ``[^A-Za-z0-9_]`` replaced by ``_``, joined by ``_``,
    in ``case`` (upper, lower or keep), with ``prefix`` in front (as written).

    >>> env_name(["db", "api-key"], prefix="APP_")
    'APP_DB_API_KEY'
    """
    name = "_".join(_OUTSIDE.sub("_", part) for part in path)
    return prefix + (name.upper() if case == "upper" else name.lower() if case == "lower" else name)


def is_valid_name(name: str) -> bool:
    """True for a name every POSIX shell accepts: a letter or ``_``, then letters, digits or ``_``."""
    return _VALID.fullmatch(name) is not None


@record(frozen=True)
class Category:
    """A class of names through which whoever writes a secret could take over the command, and where the class
    comes from. A pattern's ``*`` stands for any characters (``LD_*``, ``*PAGER``, ``*_CONFIG_FILE``)."""

    #: A short key for code and tests: code, shell, config, build, network.
    key: str
    #: What a message calls it: "code loading".
    title: str
    #: Whether a name the deployer writes (``VAR=REF``, ``--file VAR=REF``, a template's ``VAR=@T``) may set it
    #: without --allow. Never for names whose every value is code or a shell's start-up: naming one of those
    #: hands the secret's writers the command, which takes --allow said in words.
    explicit: bool
    #: Matched as written: the programs read these names in upper case only.
    patterns: tuple[str, ...]
    #: Matched in any letter case, because the programs that read them do (curl reads ``http_proxy``, Python
    #: any case of ``*_proxy``, npm any case of ``npm_config_*``).
    any_case: tuple[str, ...]
    #: The published lists and manuals the patterns come from (shown in the README).
    sources: str
    #: What one of them did, taken from a secret's ordinary key (shown in the README).
    stops: str


#: The categories, in the order a name is matched: the two that a VAR=REF may never set come first, so a name
#: that two categories match gets the stricter one. Each pattern is there because a program or a published list
#: says it changes what runs; the comments say which.
CATEGORIES = (
    Category(
        key="code",
        title="code loading",
        explicit=False,
        patterns=(
            # The dynamic linkers' and glibc's: sudo's env_delete (plugins/sudoers/env.c, initial_badenv_table,
            # platform entries included) and glibc's UNSECURE_ENVVARS (sysdeps/generic/unsecvars.h); *LIBRARY_PATH
            # for the loaders and compilers that follow LD_LIBRARY_PATH's naming (DYLD_, CAML_LD_, LIBRARY_PATH).
            "LD_*", "_RLD*", "LDR_*", "DYLD_*", "SHLIB_PATH", "LIBPATH", "*LIBRARY_PATH", "GCONV_PATH",
            "GETCONF_DIR", "GLIBC_TUNABLES", "MALLOC_TRACE", "AUTHSTATE", "VAR_ACE", "USR_ACE", "DLC_ACE",
            # Libraries that load plugins from a path they are given (Qt, GStreamer, GTK, GIO, OpenSSL, Mesa).
            "*_PLUGIN_PATH", "GTK_MODULES", "GTK_PATH", "GIO_EXTRA_MODULES", "OPENSSL_MODULES",
            "OPENSSL_ENGINES", "*_DRIVERS_PATH",
            # The program search path and the programs that other programs start by name (GTFOBins lists each):
            # PAGER, MANPAGER, GIT_PAGER, AWS_PAGER; EDITOR, GIT_EDITOR; SSH_ASKPASS, SUDO_ASKPASS; RSYNC_RSH.
            "PATH", "SHELL", "*PAGER", "*EDITOR", "VISUAL", "BROWSER", "*ASKPASS", "LESSOPEN", "LESSCLOSE",
            "*_RSH", "RSYNC_CONNECT_PROG",
            # Interpreters' and runtimes' start-up variables, as their manuals list them: python(1) reads every
            # PYTHON* name, perlrun(1) PERL*, ruby(1) RUBY*; JVMs and their launchers take -javaagent from
            # JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, JDK_JAVA_OPTIONS, JAVA_OPTS, MAVEN_OPTS, GRADLE_OPTS..., Node from
            # NODE_OPTIONS (the one name GitHub's runner refuses in GITHUB_ENV), Erlang from ELIXIR_ERL_OPTIONS:
            # hence *_OPTIONS and *_OPTS. .NET's startup hooks and profilers, Lua, PHP, R, Tcl, Erlang, GHC.
            "PYTHON*", "PERL*", "RUBY*", "IRBRC", "GEM_HOME", "GEM_PATH", "RUBYGEMS_GEMDEPS", "BUNDLE_GEMFILE",
            "NODE_PATH", "NODE_REPL_EXTERNAL_MODULE", "NODE_ICU_DATA", "NODE_COMPILE_CACHE", "DENO_DIR",
            "CLASSPATH", "*_OPTIONS", "*_OPTS", "MAVEN_ARGS", "*LOAD_PATH", "JULIA_DEPOT_PATH",
            "DOTNET_STARTUP_HOOKS", "DOTNET_ADDITIONAL_DEPS", "DOTNET_SHARED_STORE", "DOTNET_ROOT*", "CORECLR_*",
            "COR_ENABLE_PROFILING", "COR_PROFILER*", "LUA_INIT*", "LUA_PATH*", "LUA_CPATH*", "PHPRC",
            "PHP_INI_SCAN_DIR", "R_PROFILE*", "R_ENVIRON*", "R_LIBS*", "TCLLIBPATH", "ERL_AFLAGS", "ERL_FLAGS",
            "ERL_ZFLAGS", "ERL_LIBS", "GHC_ENVIRONMENT", "GHCRTS",
            # git(1) and git-config(1), ENVIRONMENT: configuration entries (GIT_CONFIG_COUNT/_KEY_<n>/_VALUE_<n>,
            # GIT_CONFIG_PARAMETERS) or files and repositories of them, whose core.fsmonitor, core.pager or
            # core.sshCommand git runs; and the programs and transports git runs (ext:: runs a command).
            "GIT_CONFIG*", "GIT_DIR", "GIT_COMMON_DIR", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_EXTERNAL_DIFF",
            "GIT_SSH", "GIT_SSH_COMMAND", "GIT_PROXY_COMMAND", "GIT_ALLOW_PROTOCOL",
        ),
        any_case=(),
        sources=(
            "sudo's env_delete list (env.c); glibc's unsecure variables (unsecvars.h); the runtimes' manuals "
            "(python, perlrun, ruby, node, the JVM's JAVA_TOOL_OPTIONS, .NET startup hooks, lua, php, R, erl); "
            "git(1); GTFOBins; the GitHub Actions runner, which refuses NODE_OPTIONS in GITHUB_ENV"
        ),
        stops="`ld_preload` loads a library into every program; `pythonpath` or `node_options` runs code at start",
    ),
    Category(
        key="shell",
        title="shells and editors",
        explicit=False,
        patterns=(
            # What bash(1) ("Shell Variables"), dash(1) and zsh (zshparam(1), its start-up files) read at start-up
            # or at each prompt and run or source: prompts are expanded ($(...) runs), ENV and BASH_ENV are
            # sourced, BASH_* holds functions (BASH_FUNC_*), loadable builtins and the xtrace file; the history
            # file is written; MAILPATH's message is expanded. sudo's env_delete lists ENV, BASH_ENV, PS4,
            # SHELLOPTS, BASHOPTS, GLOBIGNORE, IFS, CDPATH, FPATH, NULLCMD, READNULLCMD, ZDOTDIR and TMPPREFIX.
            "ENV", "BASH_*", "BASHOPTS", "SHELLOPTS", "PS0", "PS1", "PS2", "PS3", "PS4", "PROMPT_COMMAND", "IFS",
            "CDPATH", "GLOBIGNORE", "EXECIGNORE", "FCEDIT", "HISTFILE", "MAILPATH", "INPUTRC", "FPATH",
            "MODULE_PATH", "NULLCMD", "READNULLCMD", "ZDOTDIR", "TMPPREFIX",
            # Editors' start-up: vim's :help startup (VIMINIT, EXINIT, MYVIMRC, VIMRUNTIME, VIM), nvi's NEXINIT,
            # Neovim's NVIM_APPNAME, Emacs's EMACSLOADPATH.
            "*VIMINIT", "EXINIT", "NEXINIT", "MYVIMRC", "MYGVIMRC", "VIMRUNTIME", "VIM", "NVIM_APPNAME",
            "EMACSLOADPATH",
        ),
        any_case=(),
        sources=(
            "bash(1) Shell Variables, dash(1), zshparam(1); sudo's env_delete list (env.c); vim's :help startup"
        ),
        stops="`ps1` = `$(curl …|sh)` runs at every prompt of an interactive bash; `bash_env` is sourced by every "
        "bash script",
    ),
    Category(
        key="config",
        title="configuration and home",
        explicit=True,
        patterns=(
            # Where programs look for their configuration, home and temporary files: environ(7) (HOME, TMPDIR),
            # the XDG Base Directory Specification (XDG_*), every tool's *_HOME (JAVA_HOME, GRADLE_USER_HOME,
            # CARGO_HOME, GNUPGHOME, CURL_HOME...) and configuration file or folder (KUBECONFIG, AWS_CONFIG_FILE,
            # DOCKER_CONFIG, GOENV, WGETRC...). sudo lists KRB5_CONFIG, KRB5_KTNAME, TERMINFO, TERMINFO_DIRS,
            # TERMCAP, TERMPATH, NLSPATH and PATH_LOCALE; glibc LOCPATH, TZDIR and TMPDIR.
            "*HOME", "XDG_*", "*_CONFIG", "*_CONF", "*_CONFIG_FILE", "*_CONFIG_DIR", "*_CONFIG_DIRS",
            "*_CONFIG_PATH", "KUBECONFIG", "AWS_SHARED_CREDENTIALS_FILE", "GOENV", "TMPDIR", "TMP", "TEMP",
            "TEMPDIR", "TZDIR", "LOCPATH", "NLSPATH", "PATH_LOCALE", "KRB5*", "TERMINFO", "TERMINFO_DIRS",
            "TERMCAP", "TERMPATH", "WGETRC", "SCREENRC", "SYSSCREENRC", "CONDARC",
        ),
        any_case=(),
        sources=(
            "environ(7); the XDG Base Directory Specification; sudo's env_delete list (env.c); glibc's "
            "unsecvars.h; the tools' manuals (kubectl, AWS CLI, go env, docker, curl, wget)"
        ),
        stops="`home` makes python3 run a planted usercustomize.py; `xdg_config_home` gives git a core.fsmonitor "
        "to run on git status",
    ),
    Category(
        key="build",
        title="build and package tools",
        explicit=True,
        patterns=(
            # GNU make's manual: MAKEFLAGS (--eval=$(shell ...)), MAKEFILES (read before the makefile), MFLAGS,
            # and the implicit variables naming the compiler, linker and their flags; Python builds extensions
            # with CC and LDSHARED; autoconf's configure sources CONFIG_SITE and runs CONFIG_SHELL.
            "MAKEFLAGS", "GNUMAKEFLAGS", "MAKEFILES", "MFLAGS", "MAKEOVERRIDES", "MAKE", "CC", "CXX", "CPP", "LD",
            "AR", "AS", "FC", "F77", "LDSHARED", "LDCXXSHARED", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS",
            "LDLIBS", "FFLAGS", "ARFLAGS", "CONFIG_SITE", "CONFIG_SHELL", "PKG_CONFIG*", "CCACHE_*", "CMAKE_*",
            # Package managers take every setting from the environment: where packages come from, and the
            # programs and scripts they run (npm's script-shell, cargo's rustc-wrapper, go's GOTOOLCHAIN).
            "PIP_*", "UV_*", "POETRY_*", "PIPENV_*", "BUNDLE_*", "COMPOSER*", "CARGO_*", "RUSTC*", "RUSTDOC*",
            "RUSTFLAGS", "RUSTUP_*",
            # go help environment: what it builds with and where modules and toolchains come from.
            "GOFLAGS", "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOINSECURE",
            "GOVCS", "GOTOOLCHAIN", "GOROOT", "GOPATH", "GOBIN", "GOCACHE", "GOCACHEPROG", "GOMODCACHE", "GOWORK",
            "GOAUTH", "GOEXPERIMENT", "GOTMPDIR", "GCCGO", "CGO_*",
        ),
        # npm reads npm_config_* in any case ("config values are case-insensitive"), pnpm pnpm_config_*, yarn
        # yarn_*.
        any_case=("NPM_CONFIG_*", "PNPM_CONFIG_*", "YARN_*"),
        sources=(
            "GNU make's manual; Python's sysconfig (CC, LDSHARED); autoconf (CONFIG_SITE); npm-config(7), pip, "
            "uv, poetry, pipenv, bundler, composer, cargo and rustup, `go help environment`, cmake, ccache"
        ),
        stops="`makeflags` = `--eval=$(shell …)` runs a command under make; `npm_config_script_shell` chooses "
        "the shell npm runs scripts with",
    ),
    Category(
        key="network",
        title="network and TLS",
        explicit=True,
        patterns=(
            # Which certificates are trusted and where TLS secrets go: OpenSSL (OPENSSL_CONF loads providers,
            # SSL_CERT_FILE, SSL_CERT_DIR), SSLKEYLOGFILE (NSS, curl, Python, Go write session keys to it),
            # requests' REQUESTS_CA_BUNDLE, curl's CURL_CA_BUNDLE, AWS_CA_BUNDLE, Node's NODE_EXTRA_CA_CERTS and
            # NODE_TLS_REJECT_UNAUTHORIZED, git's GIT_SSL_* (GIT_SSL_NO_VERIFY, GIT_SSL_CAINFO).
            "SSL_*", "SSLKEYLOGFILE", "OPENSSL_*", "*_CA_BUNDLE", "*_CA_CERTS", "*_CAINFO", "*_CAPATH",
            "GIT_SSL_*", "GIT_PROXY_SSL_*", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_USE_ENV_PROXY",
            # Where requests go: the AWS SDKs' endpoint and credential-provider variables, Docker's daemon,
            # Kubernetes' in-cluster API server (client-go sends the pod's token there), glibc's resolver
            # (LOCALDOMAIN, HOSTALIASES, RESOLV_HOST_CONF, NIS_PATH: sudo and glibc list them).
            "AWS_ENDPOINT_URL*", "AWS_CONTAINER_*", "AWS_EC2_METADATA_*", "ECS_CONTAINER_METADATA_URI*",
            "DOCKER_HOST", "DOCKER_TLS*", "DOCKER_CERT_PATH", "CONTAINER_HOST", "KUBERNETES_SERVICE_*",
            "LOCALDOMAIN", "HOSTALIASES", "RESOLV_HOST_CONF", "NIS_PATH",
        ),
        # curl reads http_proxy in lower case only and HTTPS_PROXY, ALL_PROXY, NO_PROXY in either; Python's
        # urllib reads any case of <scheme>_proxy; Go both cases.
        any_case=("*_PROXY",),
        sources=(
            "curl(1) ENVIRONMENT; Python's urllib (getproxies); OpenSSL; SSLKEYLOGFILE (NSS, curl, Go); "
            "requests; Node; git(1); the AWS SDKs' endpoint and credential variables; docker; client-go; "
            "sudo's and glibc's resolver entries"
        ),
        stops="`aws_endpoint_url_secrets_manager` sends the command's own writes to another server; `sslkeylogfile` "
        "writes its TLS keys to a file of the secret's choosing",
    ),
)  # fmt: skip


def _alternatives(patterns: Sequence[str]) -> str:
    return "|".join(re.escape(p).replace(r"\*", ".*") for p in patterns)


@cache
def _matcher() -> re.Pattern[str]:
    """One regular expression for every category: a named group per category, in :data:`CATEGORIES`' order.
    Built on first use, so a start that checks no name does not pay for it."""
    groups = []
    for c in CATEGORIES:
        body = "|".join(x for x in (_alternatives(c.patterns), c.any_case and f"(?i:{_alternatives(c.any_case)})") if x)
        groups.append(f"(?P<{c.key}>{body})")
    return re.compile("|".join(groups))


_BY_KEY = {c.key: c for c in CATEGORIES}


def protection(name: str) -> Category | None:
    """The category that protects ``name`` (the first that matches), or None for a name a secret may set."""
    match = _matcher().fullmatch(name)
    return _BY_KEY[match.lastgroup] if match is not None and match.lastgroup is not None else None


def is_protected(name: str) -> bool:
    """True when a secret's keys must not set ``name`` unless the user allows it with --allow."""
    return protection(name) is not None
