import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envinject.rules import naming
from envinject.rules.naming import CATEGORIES, Category, env_name, is_protected, is_valid_name, protection


@pytest.mark.parametrize(
    ("path", "prefix", "case", "expected"),
    [
        (["openai"], "", "upper", "OPENAI"),
        (["api-key"], "", "upper", "API_KEY"),
        (["db", "host"], "", "upper", "DB_HOST"),
        (["db.host"], "", "upper", "DB_HOST"),
        (["Mixed", "Case"], "", "keep", "Mixed_Case"),
        (["Mixed", "Case"], "", "lower", "mixed_case"),
        (["openai"], "APP_", "upper", "APP_OPENAI"),
        (["openai"], "app_", "upper", "app_OPENAI"),
        # The prefix is written as wanted: no case is applied to it.
        (["OpenAI"], "App_", "lower", "App_openai"),
        (["clé"], "", "upper", "CL_"),
        (["a b/c"], "", "upper", "A_B_C"),
        (["1password"], "", "upper", "1PASSWORD"),
        ([""], "", "upper", ""),
    ],
)
def test_naming_table(path: list[str], prefix: str, case: str, expected: str) -> None:
    assert env_name(path, prefix=prefix, case=case) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [("OPENAI", True), ("_X1", True), ("a", True), ("1PASSWORD", False), ("", False), ("A-B", False), ("É", False)],
)
def test_valid_names(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


#: The names the issue reported: each was set from an ordinary key and took over the command (or is the same
#: kind of door), with the category that now holds it.
REPORTED = {
    "MAKEFLAGS": "build", "HOME": "config", "XDG_CONFIG_HOME": "config", "OPENSSL_CONF": "config",
    "SSLKEYLOGFILE": "network", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "network", "NPM_CONFIG_SCRIPT_SHELL": "build",
    "KUBECONFIG": "config", "AWS_CONFIG_FILE": "config", "JAVA_HOME": "config", "GRADLE_USER_HOME": "config",
    "MAKEFILES": "build", "HTTP_PROXY": "network", "http_proxy": "network", "HTTPS_PROXY": "network",
    "https_proxy": "network", "ALL_PROXY": "network", "no_proxy": "network", "SSL_CERT_FILE": "network",
    "REQUESTS_CA_BUNDLE": "network", "GOENV": "config", "GOPROXY": "build", "CC": "build", "LDSHARED": "build",
    "VIMINIT": "shell", "PS1": "shell", "PS0": "shell", "PS4": "shell", "PROMPT_COMMAND": "shell",
}  # fmt: skip


@pytest.mark.parametrize(("name", "key"), REPORTED.items())
def test_the_reported_names_are_protected_in_their_category(name: str, key: str) -> None:
    found = protection(name)
    assert found is not None and found.key == key


#: The former flat list: every entry is still protected (a ``*`` tried as nothing, one letter and a suffix).
FORMER = (
    "IFS", "CDPATH", "LOCALDOMAIN", "HOSTALIASES", "NLSPATH", "PATH_LOCALE", "LD_*", "_RLD*", "SHLIB_PATH",
    "LDR_*", "LIBPATH", "AUTHSTATE", "DYLD_*", "KRB5_CONFIG*", "KRB5_KTNAME", "VAR_ACE", "USR_ACE", "DLC_ACE",
    "TERMINFO", "TERMINFO_DIRS", "TERMPATH", "TERMCAP", "ENV", "BASH_ENV", "PS4", "GLOBIGNORE", "BASHOPTS",
    "SHELLOPTS", "CLASSPATH", "PERLIO_DEBUG", "PERLLIB", "PERL5LIB", "PERL5OPT", "PERL5DB", "FPATH", "NULLCMD",
    "READNULLCMD", "ZDOTDIR", "TMPPREFIX", "RUBYLIB", "RUBYOPT", "NODE_PATH", "GIT_SSH_COMMAND", "GCONV_PATH",
    "BASH_FUNC_*", "GETCONF_DIR", "GLIBC_TUNABLES", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "RESOLV_HOST_CONF",
    "TMPDIR", "TZDIR", "GIT_CONFIG*", "GIT_EXTERNAL_DIFF", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_DIR",
    "GIT_COMMON_DIR", "GIT_SSH", "GIT_PROXY_COMMAND", "GIT_ALLOW_PROTOCOL", "PYTHON*", "*_OPTIONS", "*_OPTS",
    "NODE_REPL_EXTERNAL_MODULE", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE", "LUA_INIT*", "LUA_PATH*", "LUA_CPATH*",
    "PHPRC", "PHP_INI_SCAN_DIR", "R_PROFILE*", "R_ENVIRON*", "TCLLIBPATH", "DOTNET_STARTUP_HOOKS",
    "DOTNET_ADDITIONAL_DEPS", "CORECLR_PROFILER*", "COR_PROFILER*", "ERL_AFLAGS", "ERL_FLAGS", "ERL_ZFLAGS",
    "GOFLAGS", "PATH", "PROMPT_COMMAND", "SHELL", "*PAGER", "*EDITOR", "VISUAL", "BROWSER", "LESSOPEN",
    "LESSCLOSE", "*ASKPASS",
)  # fmt: skip


@pytest.mark.parametrize("pattern", FORMER)
def test_every_formerly_protected_name_still_is(pattern: str) -> None:
    for fill in ("", "X", "_A1"):
        if pattern.replace("*", fill) not in ("_OPTIONS", "_OPTS"):  # a name needs something before the suffix
            assert is_protected(pattern.replace("*", fill)), pattern.replace("*", fill)


@pytest.mark.parametrize(
    "name",
    [
        # each of these runs a command or loads code, and each was settable from a secret without --allow
        "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_12", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_GLOBAL",
        "GIT_EXTERNAL_DIFF", "LESSOPEN", "LESSCLOSE", "MANPAGER", "BROWSER", "GIT_PAGER", "AWS_PAGER", "GIT_EDITOR",
        "SUDO_ASKPASS", "JAVA_OPTS", "MAVEN_OPTS", "ELIXIR_ERL_OPTIONS", "PERLIO_DEBUG", "ZDOTDIR", "TMPDIR",
        "LUA_INIT_5_4", "DOTNET_STARTUP_HOOKS",
        # the former list, still protected
        "PATH", "LD_PRELOAD", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "PYTHONPATH", "PYTHONSTARTUP", "BASH_ENV",
        "BASH_FUNC_x%%", "IFS", "NODE_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
        "GIT_SSH_COMMAND", "EDITOR", "PAGER",
    ],
)  # fmt: skip
def test_protected(name: str) -> None:
    assert is_protected(name)


@pytest.mark.parametrize(
    "name",
    ["OPENAI", "DATABASE_URL", "NODE_ENV", "GIT_TOKEN", "GIT_AUTHOR_NAME", "GITHUB_TOKEN", "PATHS", "MYPATH",
     "PAGER_DUTY_KEY", "EDITORIAL", "LDAP_URL", "PYTHO", "APP_PATH", "OPTIONS", "OPTS", "PROXY", "PROXY_URL",
     "HOMEPAGE_URL", "CONFIG", "SSLX", "MAKER", "CCC"],
)  # fmt: skip
def test_not_protected(name: str) -> None:
    assert not is_protected(name)


#: Names that secrets commonly hold, and what happens to each now: None passes; a category is a refusal (a key
#: of that name needs --allow; for config, build and network, VAR=REF written by the deployer passes too).
#: The README's false-positive list is this table.
COMMON = {
    "API_KEY": None, "TOKEN": None, "DATABASE_URL": None, "REDIS_URL": None, "SENTRY_DSN": None,
    "JWT_SECRET": None, "GITHUB_TOKEN": None, "NPM_TOKEN": None, "NODE_AUTH_TOKEN": None, "OPENAI_API_KEY": None,
    "ANTHROPIC_API_KEY": None, "DB_PASSWORD": None, "DB_HOST": None, "STRIPE_SECRET_KEY": None, "USERNAME": None,
    "PASSWORD": None, "HOST": None, "PORT": None, "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None, "SECRET_KEY": None, "DJANGO_SECRET_KEY": None, "NODE_ENV": None,
    "SLACK_WEBHOOK_URL": None, "SMTP_PASSWORD": None, "TWINE_PASSWORD": None, "HF_TOKEN": None, "DD_API_KEY": None,
    "MONGODB_URI": None, "PGPASSWORD": None, "RAILS_MASTER_KEY": None, "GOOGLE_APPLICATION_CREDENTIALS": None,
    "TLS_KEY": None, "TLS_CERT": None, "PRIVATE_KEY": None, "ENCRYPTION_KEY": None, "DOCKER_PASSWORD": None,
    # refused, and why: where pip installs from, with the token in the URL
    "PIP_INDEX_URL": "build", "PIP_EXTRA_INDEX_URL": "build",
    # cargo, poetry, yarn and composer read every setting from their prefix, tokens included
    "CARGO_REGISTRY_TOKEN": "build", "POETRY_PYPI_TOKEN_PYPI": "build", "YARN_NPM_AUTH_TOKEN": "build",
    "COMPOSER_AUTH": "build",
    # OpenSSL-style TLS settings: SSL_CERT_FILE's family
    "SSL_CERT": "network", "SSL_KEY": "network",
    # an app's own *_CONFIG or *_HOME reads like a tool's
    "APP_CONFIG": "config", "SERVICE_CONFIG": "config", "APP_HOME": "config",
    # a JSON key "env" is the ENV that sh sources
    "ENV": "shell",
}  # fmt: skip


@pytest.mark.parametrize(("name", "key"), COMMON.items())
def test_common_secret_names(name: str, key: str | None) -> None:
    found = protection(name)
    assert (found.key if found else None) == key


@pytest.mark.parametrize(
    ("name", "key"),
    # The dynamic loader, Python and the shells read upper case only; curl, Python's urllib and npm read these in
    # any case, and --name-case lower or keep makes such names from keys.
    [("ld_preload", None), ("pythonpath", None), ("home", None), ("ps1", None), ("http_proxy", "network"),
     ("Https_Proxy", "network"), ("all_proxy", "network"), ("npm_config_script_shell", "build"),
     ("Npm_Config_Registry", "build"), ("yarn_rc_filename", "build")],
)  # fmt: skip
def test_case_is_matched_where_the_programs_match_it(name: str, key: str | None) -> None:
    found = protection(name)
    assert (found.key if found else None) == key


def category_member(category: Category) -> st.SearchStrategy[str]:
    """A name drawn from one of the category's patterns: each ``*`` filled, and an any-case one in mixed case."""
    fill = st.from_regex(r"[A-Z0-9_]{0,12}", fullmatch=True)

    def made(pattern: str, parts: list[str], flips: list[bool]) -> str:
        name = pattern
        for part in parts:
            name = name.replace("*", part, 1)
        if pattern in category.any_case:
            flips = (flips + [False] * len(name))[: len(name)]
            name = "".join(c.lower() if flip else c for c, flip in zip(name, flips, strict=True))
        return name

    patterns = st.sampled_from([*category.patterns, *category.any_case])
    return patterns.flatmap(
        lambda p: st.builds(made, st.just(p), st.lists(fill, min_size=3, max_size=3), st.lists(st.booleans()))
    ).filter(is_valid_name)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CATEGORIES).flatmap(lambda c: st.tuples(st.just(c), category_member(c))))
def test_every_member_of_every_category_is_protected(drawn: tuple[Category, str]) -> None:
    category, name = drawn
    found = protection(name)
    assert found is not None, name
    # A name two categories match gets the first: never one that a VAR=REF may set when the drawn one may not.
    assert CATEGORIES.index(found) <= CATEGORIES.index(category)
    assert category.explicit or not found.explicit


APPS = ["OPENAI", "STRIPE", "DB", "APP", "SERVICE", "SLACK", "TWILIO", "SENDGRID", "DATADOG", "SENTRY", "REDIS",
        "POSTGRES", "MYSQL", "MONGO", "AUTH0", "GITHUB", "GITLAB", "ANTHROPIC", "S3", "JWT", "SMTP",
        "OAUTH"]  # fmt: skip
KINDS = ["API_KEY", "SECRET_KEY", "SECRET", "PASSWORD", "TOKEN", "URL", "DSN", "USER", "USERNAME", "HOST", "PORT",
         "CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_URL", "PRIVATE_KEY", "ACCESS_KEY_ID", "SIGNING_KEY", "ACCOUNT_SID",
         "AUTH_TOKEN", "DATABASE", "BUCKET", "REGION", "ENDPOINT", "URI"]  # fmt: skip


@given(st.sampled_from(APPS), st.sampled_from(KINDS), st.sampled_from(["", "PROD_", "MY_"]))
def test_ordinary_application_names_pass(app: str, kind: str, scope: str) -> None:
    assert not is_protected(f"{scope}{app}_{kind}")


def test_the_patterns_are_shell_names_each_once() -> None:
    patterns = [p for c in CATEGORIES for p in (*c.patterns, *c.any_case)]
    assert len(set(patterns)) == len(patterns)
    assert all(is_valid_name(p.replace("*", "X")) for p in patterns)
    assert [c.key for c in CATEGORIES] == ["code", "shell", "config", "build", "network"]
    # The two categories a VAR=REF may never set come first, so they win a name two categories match.
    assert [c.explicit for c in CATEGORIES] == [False, False, True, True, True]


def test_one_regular_expression_built_once() -> None:
    assert naming._matcher() is naming._matcher()
    assert isinstance(naming._matcher(), re.Pattern)
