"""The escaping of what messages quote, and the last guard before a message is printed."""

from hypothesis import given
from hypothesis import strategies as st

from envinject.errors import LINE_LIMIT, QUOTE_LIMIT, one_line, printable, quote

HOSTILE = "ok\nenvinject: everything is fine\r\x1b]0;pwned\x07\x1b[2J\u202edesrever\u2028\ud800\x00\t"


def test_printable_escapes_every_control_and_keeps_the_rest() -> None:
    assert printable("APIKEYS#openai é 🙂 a\\.b") == "APIKEYS#openai é 🙂 a\\.b"
    assert printable(HOSTILE) == (
        "ok\\nenvinject: everything is fine\\r\\x1b]0;pwned\\x07\\x1b[2J\\u202edesrever\\u2028\\ud800\\x00\\t"
    )


def test_quote_escapes_and_cuts_long_input() -> None:
    assert quote("app#db") == "'app#db'"
    assert quote(HOSTILE).isprintable()
    huge = "x" * 1_000_000
    assert quote(huge) == repr("x" * QUOTE_LIMIT) + "... (1000000 characters)"


def test_one_line_is_printable_and_bounded() -> None:
    assert one_line("secret 'a' was not found; check the name") == "secret 'a' was not found; check the name"
    line = one_line(f"reference {HOSTILE * 100_000}; hint")
    assert line.isprintable() and len(line) <= LINE_LIMIT + 5
    assert line.startswith("reference ok\\n") and line.endswith("; hint")  # the head and the hint survive


@given(st.text())
def test_one_line_is_always_one_printable_line(text: str) -> None:
    line = one_line(text)
    assert line.isprintable()
    assert len(line.splitlines()) <= 1
