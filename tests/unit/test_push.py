import io
import os
from unittest import mock

import pytest
from dotenv import dotenv_values
from hypothesis import assume, given, reject, settings
from hypothesis import strategies as st

from envinject.commands.push import interpolate, plan_push
from envinject.errors import ConfigError
from envinject.rules import flatten
from envinject.rules.bindings import Naming, Options
from envinject.rules.envfile import Literal, parse_envfile
from envinject.rules.formats import UnrepresentableError
from envinject.rules.naming import env_name, is_protected


def test_new_secret() -> None:
    plan = plan_push(None, {"A": "1", "B": "2"}, merge=False)
    assert (plan.exists, plan.added, plan.changed, plan.removed) == (False, ["A", "B"], [], [])
    assert plan.content == {"A": "1", "B": "2"}


def test_replace_and_merge() -> None:
    current = {"A": "1", "B": "2", "C": "3"}
    plan = plan_push(current, {"A": "1", "B": "changed", "D": "4"}, merge=False)
    assert (plan.added, plan.changed, plan.removed) == (["D"], ["B"], ["C"])
    assert plan.content == {"A": "1", "B": "changed", "D": "4"}
    plan = plan_push(current, {"B": "changed", "D": "4"}, merge=True)
    assert (plan.added, plan.changed, plan.removed) == (["D"], ["B"], [])
    assert plan.content == {"A": "1", "B": "changed", "C": "3", "D": "4"}


def test_plan_repr_hides_values() -> None:
    assert "canary-push" not in repr(plan_push(None, {"A": "canary-push"}, merge=False))


@pytest.mark.parametrize(
    ("current", "new", "merge", "keys", "hint"),
    [
        (None, {"a": "b", "A": "c"}, False, ("'a'", "'A'"), "in the file"),
        ({"x": "1"}, {"Token": "1", "TOKEN": "2"}, True, ("'Token'", "'TOKEN'"), "in the file"),
        ({"api_key": "1"}, {"Api_Key": "2"}, True, ("'api_key'", "'Api_Key'"), "without --merge"),
    ],
)
def test_keys_that_differ_only_in_case_are_refused(
    current: dict[str, str] | None, new: dict[str, str], merge: bool, keys: tuple[str, str], hint: str
) -> None:
    # A run would refuse the stored secret: both keys become one variable.
    with pytest.raises(ConfigError) as info:
        plan_push(current, {k: f"canary-{v}" for k, v in new.items()}, merge=merge)
    message = str(info.value)
    assert all(k in message for k in keys) and "differ only in case" in message and hint in info.value.hint
    assert "canary" not in message
    assert info.value.exit_code == 125


def test_a_file_key_is_the_secret_key_a_run_names_it_after() -> None:
    """API_KEY in the file is the secret's api_key (a run names it so): updated in place, not renamed."""
    plan = plan_push({"api_key": "1"}, {"API_KEY": "2"}, merge=False)
    assert (plan.content, plan.changed, plan.added, plan.removed) == ({"api_key": "2"}, ["api_key"], [], [])
    nested = {"db": {"host": "h", "port": 5432}, "Mixed": "m"}
    plan = plan_push(nested, {"DB_HOST": "h2", "DB_PORT": "5432", "MIXED": "m"}, merge=False)
    assert plan.content == {"db": {"host": "h2", "port": 5432}, "Mixed": "m"}  # the number kept its type
    assert (plan.changed, plan.added, plan.removed) == (["db.host"], [], [])
    plan = plan_push(nested, {"DB_HOST": "h"}, merge=False)
    assert plan.content == {"db": {"host": "h"}} and plan.removed == ["db.port", "Mixed"]
    plan = plan_push(nested, {"MIXED": "m"}, merge=False)
    assert plan.content == {"Mixed": "m"}  # an object left empty goes too
    plan = plan_push({"token": "t"}, {"APP_TOKEN": "t"}, merge=False, naming=Naming(prefix="APP_"))
    assert plan.unchanged


def dotenv_reading(text: str, environ: dict[str, str]) -> dict[str, str | None]:
    with mock.patch.dict(os.environ, environ, clear=True):
        return dict(dotenv_values(stream=io.StringIO(text)))


# python-dotenv's interpolation cases (its tests/test_variables.py and tests/test_main.py), restated as files.
DOTENV_INTERPOLATION = [
    "A=${B}\n",
    "B=x\nA=${B}\n",
    "A=${B}\nB=x\n",
    "A=${B:-default}\n",
    "B=\nA=${B:-default}\n",
    "A=a${B}c${B}\nB=q\n",
    "A='${B}'\n",
    'A="\\${B}"\n',
    "A=$B\n",
    "A=${B\n",
    "A=${B:x}\n",
    "A=${HOME}/x\n",
    "HOME=file\nA=${HOME}/x\n",
    "A=1\nA=${A}2\n",
    "A=${A}\n",
    "A=${:-}\n",
]


@pytest.mark.parametrize("text", DOTENV_INTERPOLATION)
def test_interpolate_is_python_dotenvs_expansion(text: str) -> None:
    environ = {"HOME": "/home/u", "B": "from-env"}
    literals = [(e.name, e.value) for _, e in parse_envfile(text, "f.env", refs=False) if isinstance(e, Literal)]
    assert interpolate(literals, environ) == dotenv_reading(text, environ)
    assert interpolate(literals, {}) == dotenv_reading(text, {})


def test_the_same_content_is_unchanged() -> None:
    assert plan_push({"A": "1"}, {"A": "1"}, merge=False).unchanged
    assert plan_push({"A": "1", "B": "2"}, {"A": "1"}, merge=True).unchanged
    assert not plan_push({"A": "1", "B": "2"}, {"A": "1"}, merge=False).unchanged  # B would go
    assert not plan_push(None, {}, merge=False).unchanged  # a new secret is created, even empty


_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}", fullmatch=True)
_LEAF = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=20),
    st.integers(-(10**6), 10**6), st.booleans(),
)  # fmt: skip
_DOCUMENT = st.dictionaries(_KEY, st.one_of(_LEAF, st.dictionaries(_KEY, _LEAF, min_size=1, max_size=3)), max_size=6)


@settings(max_examples=150)
@given(_DOCUMENT, st.sampled_from(["upper", "lower", "keep"]), st.sampled_from(["", "APP_"]))
def test_export_then_push_is_the_same_secret(document: dict[str, object], case: str, prefix: str) -> None:
    """What export writes from a secret (mixed-case, nested and prefixed keys, numbers and booleans) pushes back
    as that secret, unchanged."""
    import json

    from envinject.rules.formats import dotenv as dotenv_format
    from envinject.sources.memory import MemorySource
    from tests.resolve import resolve

    naming = Naming(prefix, case)
    names = [env_name(path, prefix=prefix, case=case) for path, _ in flatten.flatten(document)] if document else []
    assume(len(set(names)) == len(names))  # a run refuses a secret two of whose keys make one name
    assume(not any(is_protected(name) for name in names))  # and one that would set CC or HOME
    bindings = resolve(["APP"], MemorySource({"APP": json.dumps(document)}), Options(naming=naming))
    try:
        text = dotenv_format.render({b.name: b.value for b in bindings})
    except UnrepresentableError:  # a value export refuses to write (a carriage return...) is never pushed back
        reject()
    pairs = {e.name: e.value for _, e in parse_envfile(text, ".env", refs=False) if isinstance(e, Literal)}
    assert plan_push(json.loads(json.dumps(document)), pairs, merge=False, naming=naming).unchanged
