from __future__ import annotations

import base64
import itertools
import json
import random
import tracemalloc
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envinject.resident import mask
from envinject.resident.mask import DEFAULT_MIN_LENGTH, MASK, Masker, masked_forms


def reference(data: bytes, values: list[str], min_length: int = 1) -> bytes:
    """Masking by definition, one byte at a time: at each position the longest value that starts there."""
    patterns = [v.encode() for v in values if len(v) >= min_length]
    out = bytearray()
    i = 0
    while i < len(data):
        found = max((p for p in patterns if data.startswith(p, i)), key=len, default=None)
        if found is None:
            out.append(data[i])
            i += 1
        else:
            out += MASK
            i += len(found)
    return bytes(out)


def feed_in_chunks(masker: Masker, data: bytes, cuts: list[int]) -> bytes:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return b"".join(masker.feed(data[a:b]) for a, b in itertools.pairwise(bounds)) + masker.flush()


# A small alphabet makes values overlap and share prefixes often; "*" is left out so that a value can
# never be formed by the mask itself. "é" and "🙂" give multi-byte values.
ALPHABET = "abcé🙂 \n"
values_st = st.lists(st.text(ALPHABET, min_size=1, max_size=8), min_size=1, max_size=4)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[str], bytes]:
    values = draw(values_st)
    noise = st.one_of(st.text(ALPHABET, max_size=6).map(str.encode), st.binary(max_size=6))
    pieces = draw(st.lists(st.one_of(noise, st.sampled_from(values).map(str.encode)), max_size=12))
    return values, b"".join(pieces)


@settings(max_examples=300)
@given(streams(), st.lists(st.integers(min_value=0), max_size=10), st.booleans())
def test_any_split_gives_what_masking_the_whole_gives(
    case: tuple[list[str], bytes], cuts: list[int], sampled: bool
) -> None:
    values, data = case
    # A few values are found with find(); ``sampled`` makes the sampling index find them instead.
    with mock.patch.object(mask, "_FIND_AT_MOST", 0 if sampled else mask._FIND_AT_MOST):
        whole = Masker(values, min_length=1)
        expected = whole.feed(data) + whole.flush()
        assert expected == reference(data, values)
        assert feed_in_chunks(Masker(values, min_length=1), data, cuts) == expected
    for value in values:
        assert value.encode() not in expected


@given(streams())
def test_byte_by_byte(case: tuple[list[str], bytes]) -> None:
    values, data = case
    masker = Masker(values, min_length=1)
    out = b"".join(masker.feed(data[i : i + 1]) for i in range(len(data))) + masker.flush()
    assert out == reference(data, values)


@given(streams(), st.integers(min_value=0))
def test_holds_back_only_a_possible_start_of_a_value(case: tuple[list[str], bytes], cut: int) -> None:
    values, data = case
    head = data[: cut % (len(data) + 1)]
    out = Masker(values, min_length=1).feed(head)
    encoded = [v.encode() for v in values]
    longest = max(map(len, encoded))
    # What came out is the head masked up to some point; what is held back after it is shorter than the longest
    # value and could still start one.
    decided = [k for k in range(len(head) + 1) if reference(head[:k], values) == out]
    assert any(len(head) - k < longest and any(v.startswith(head[k:]) for v in encoded) for k in decided)


def test_a_value_split_across_reads() -> None:
    masker = Masker(["s3cr3t-value"])
    assert masker.feed(b"token=s3cr") == b"token="
    assert masker.feed(b"3t-val") == b""
    assert masker.feed(b"ue; next\n") == MASK + b"; next\n"
    assert masker.flush() == b""


def test_a_completed_line_goes_out_at_once() -> None:
    masker = Masker(["s3cr3t-value"])
    assert masker.feed(b"hello world\n") == b"hello world\n"
    assert masker.flush() == b""  # nothing was held back


def test_a_partial_value_at_the_end_of_the_stream_is_not_a_match() -> None:
    masker = Masker(["s3cr3t-value"])
    assert masker.feed(b"s3cr3t-val") == b""
    assert masker.flush() == b"s3cr3t-val"
    assert masker.feed(b"s3cr3t-value") == MASK  # a new stream after flush()


def test_longest_match_at_the_leftmost_position_wins() -> None:
    masker = Masker(["secret", "secret-long", "t-longer"])
    assert masker.feed(b"[secret-longer]") + masker.flush() == b"[" + MASK + b"er]"
    masker = Masker(["abcdef", "cdefgh"])
    assert masker.feed(b"abcdefgh") + masker.flush() == MASK + b"gh"
    masker = Masker(["xxxxxx"])
    assert masker.feed(b"x" * 13) + masker.flush() == MASK + MASK + b"x"


def test_a_value_that_is_a_prefix_of_another_waits_for_the_longer_one() -> None:
    masker = Masker(["secret", "secret-long"])
    assert masker.feed(b"secret") == b""
    assert masker.feed(b"-lo") == b""
    assert masker.feed(b"ng!") == MASK + b"!"
    assert masker.feed(b"secret-") == b""
    assert masker.feed(b"x") == MASK + b"-x"


def test_binary_bytes_pass_and_are_masked() -> None:
    noise = bytes(range(256))
    masker = Masker(["pässwörd"])
    data = noise + "pässwörd".encode() + b"\x00\xff" + noise
    assert masker.feed(data) + masker.flush() == noise + MASK + b"\x00\xff" + noise


def test_a_value_from_undecodable_environment_bytes() -> None:
    # os.environ turns the byte 0xff into "\udcff"; the child's output has the byte itself.
    masker = Masker(["abc\udcffdef"])
    assert masker.feed(b"<abc\xffdef>") + masker.flush() == b"<" + MASK + b">"


def test_short_values_are_not_masked() -> None:
    assert DEFAULT_MIN_LENGTH == 6
    masker = Masker(["true", "5432", "", "sixsix"])
    assert masker.feed(b"true 5432 sixsix\n") == b"true 5432 " + MASK + b"\n"
    assert Masker(["abc"], min_length=3).feed(b"abc") == MASK
    assert not Masker(["true", ""]).active
    assert Masker(["true", ""]).feed(b"true") == b"true"


def test_min_length_counts_characters() -> None:
    # "ééé" is 6 bytes but 3 characters: short.
    assert not Masker(["ééé"]).active
    assert Masker(["éééééé"]).feed("éééééé!".encode()) == MASK + b"!"


def test_a_fresh_masker_shares_the_values_not_the_stream() -> None:
    masker = Masker(["s3cr3t-value"])
    assert masker.feed(b"s3cr3t") == b""
    other = masker.fresh()
    assert other.feed(b"-value s3cr3t-value") == b"-value " + MASK
    assert masker.feed(b"-value") == MASK


def test_values_added_mid_stream_are_masked_from_then_on() -> None:
    old = Masker(["s3cr3t-value"])
    assert old.feed(b"rotated-value s3cr") == b"rotated-value "  # not a value yet: it goes out as it is
    new = Masker(["s3cr3t-value", "s3cr-rotated", "rotated-value"]).fresh(continuing=old)
    # What the old masker held back goes on in the new one, now checked against every value.
    assert new.feed(b"-rotated s3cr3t-value rotated-va") == MASK + b" " + MASK + b" "
    assert new.feed(b"lue\n") + new.flush() == MASK + b"\n"
    assert Masker(["s3cr-rotated"]).fresh().feed(b"-rotated") == b"-rotated"  # without it, the start is lost


# Many values per example take time to generate and to index: on a loaded machine that is no failure.
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(ALPHABET, min_size=6, max_size=40), min_size=100, max_size=300), st.randoms())
def test_many_values(values: list[str], rnd: Any) -> None:
    # Enough values that many share their first bytes and the sampling stride is short.
    data = b" ".join(rnd.choice(values).encode() if rnd.random() < 0.5 else b"noise\xff" for _ in range(60))
    masker = Masker(values)
    assert masker.feed(data) + masker.flush() == reference(data, values, DEFAULT_MIN_LENGTH)


def test_memory_is_linear_in_the_total_length_of_the_values() -> None:
    # Long values: a table of every prefix (quadratic) would take hundreds of megabytes here.
    rnd = random.Random(7)
    values = ["".join(rnd.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=1000)) for _ in range(300)]
    total = sum(map(len, values))
    tracemalloc.start()
    try:
        masker = Masker(values)
        size = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size < 20 * total
    assert masker.feed(b"<" + values[5].encode() + b">") + masker.flush() == b"<" + MASK + b">"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(ALPHABET, min_size=8, max_size=40), min_size=mask._FIND_AT_MOST + 1, max_size=40), st.randoms())
def test_long_values_in_any_split(values: list[str], rnd: Any) -> None:
    # Values of 8 bytes or more are sampled a machine word at a time; the result is the same.
    assert Masker(values)._candidates._words
    data = b"".join(rnd.choice(values).encode() if rnd.random() < 0.3 else rnd.randbytes(5) for _ in range(40))
    expected = reference(data, values, DEFAULT_MIN_LENGTH)
    cuts = [rnd.randrange(len(data) + 1) for _ in range(5)]
    assert feed_in_chunks(Masker(values), data, cuts) == expected


def test_output_where_long_runs_of_value_bytes_are_everywhere() -> None:
    # Hundreds of runs close together: read as one region instead of one by one; the result is the same.
    rnd = random.Random(3)
    values = ["".join(rnd.choices("abcdef0123", k=rnd.randint(8, 30))) for _ in range(50)]
    lines = [rnd.choice(values) if rnd.random() < 0.2 else "".join(rnd.choices("abcdef0123", k=40)) for _ in range(500)]
    data = "\n".join(lines).encode()
    assert feed_in_chunks(Masker(values), data, [len(data) // 3, len(data) // 2]) == reference(data, values, 6)


# What --mask hides: each value in the forms programs print it in (masked_forms), each checked here against the
# encoder a program would call, not against masked_forms' own code.


def _determined(digits: bytes, before: int, length: int) -> bytes:
    """The base64 digits whose six bits all come from ``length`` bytes that follow ``before`` bytes."""
    first = -(-before * 8 // 6)  # the first digit that starts at or after the value's first bit
    end = (before + length) * 8 // 6  # one past the last digit that ends at or before its last bit
    return digits[first:end]


def _in_repr(context: str, text: str, convert: Callable[[str], str] = repr) -> tuple[bytes, bytes]:
    """``repr(context + text)`` and the part of it that stands for ``text``."""
    printed = convert(context + text)
    quote_char = printed[0]
    head = 1 + len(context) + context.count(quote_char)  # the context's quotes, the one around escaped
    return _bytes(printed), _bytes(printed[head:-1])


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _long(text: bytes) -> bool:
    return len(text.decode("utf-8", "surrogateescape")) >= DEFAULT_MIN_LENGTH


def _lines(value: bytes, text: str) -> list[tuple[bytes, bytes]]:
    """Each line of the value, split as bytes and as Python text are split, that is long enough to be masked."""
    return [(line, line) for line in [*value.splitlines(), *map(_bytes, text.splitlines())] if _long(line)]


def _wrapped(value: bytes, width: int) -> list[tuple[bytes, bytes]]:
    """Base64 of the value alone, wrapped at ``width`` digits: each line, and the part of it that the value alone
    decides, when that is long enough to be masked (the last line's may not be)."""
    digits = base64.b64encode(value)
    alone = _determined(digits, 0, len(value))
    lines = [(digits[i : i + width], alone[i : i + width]) for i in range(0, len(digits), width)]
    return [(line, part) for line, part in lines if _long(part)]


def _json_string(printed: str) -> list[tuple[bytes, bytes]]:
    """A JSON string as printed, and its inside."""
    return [(_bytes(printed), _bytes(printed[1:-1]))]


def _go_json(text: str) -> str:
    """A JSON string as Go's encoding/json writes it: HTML-safe, non-ASCII as it is."""
    escapes = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
    return "".join(escapes.get(c, c) for c in json.dumps(text, ensure_ascii=False))


#: How programs print a value: name -> (value's bytes, its text, context bytes) -> [(what is printed, the part of it
#: that must not survive masking)]. The context stands for what comes before the value in longer encoded text.
Encoder = Callable[[bytes, str, bytes], list[tuple[bytes, bytes]]]
ENCODERS: dict[str, Encoder] = {
    "as it is": lambda v, t, c: [(v, v)],
    "each line": lambda v, t, c: _lines(v, t),
    "base64": lambda v, t, c: [(base64.b64encode(v), _determined(base64.b64encode(v), 0, len(v)))],
    "base64 inside longer base64": lambda v, t, c: [
        (d, _determined(d, len(c), len(v))) for d in [base64.b64encode(c + v + c)]
    ],
    "url-safe base64 inside longer base64": lambda v, t, c: [
        (d, _determined(d, len(c), len(v))) for d in [base64.urlsafe_b64encode(c + v + c)]
    ],
    "base64 wrapped at 76 (base64(1), MIME)": lambda v, t, c: _wrapped(v, 76),
    "base64 wrapped at 64 (PEM)": lambda v, t, c: _wrapped(v, 64),
    "urllib.parse.quote": lambda v, t, c: [(quote(v).encode(), quote(v).encode())],
    "urllib.parse.quote, nothing safe": lambda v, t, c: [(quote(v, safe="").encode(),) * 2],
    "urllib.parse.quote_plus": lambda v, t, c: [(quote_plus(v).encode(),) * 2],
    "encodeURIComponent": lambda v, t, c: [(quote(v, safe="!'()*").encode(),) * 2],
    "json.dumps": lambda v, t, c: _json_string(json.dumps(t)),
    "json.dumps, ensure_ascii=False": lambda v, t, c: _json_string(json.dumps(t, ensure_ascii=False)),
    "JSON with / escaped (PHP)": lambda v, t, c: _json_string(json.dumps(t).replace("/", "\\/")),
    "JSON with <, >, & escaped (Go)": lambda v, t, c: _json_string(_go_json(t)),
    "repr": lambda v, t, c: [_in_repr("", t)],
    "repr inside a string with a '": lambda v, t, c: [_in_repr("'", t)],
    "repr inside a string with ' and \"": lambda v, t, c: [_in_repr("'\"", t)],
    "ascii": lambda v, t, c: [_in_repr("", t, ascii)],
    "repr of bytes": lambda v, t, c: [(_bytes(repr(v)), _bytes(repr(v)[2:-1]))],
}

# Values from every class a secret's characters come from: ASCII tokens, spaces and punctuation, quotes and
# backslashes, non-ASCII letters and emoji, control characters and line breaks of every kind, an undecodable byte
# as os.environ holds it ("\udcff"), and raw bytes that are not UTF-8 (a SecretBinary file). "*" is left out: a
# value made of the mask could be put together by masking.
_CHARS = st.one_of(
    st.characters(blacklist_characters="*", blacklist_categories=("Cs",)),
    st.sampled_from(list("\n\r\v\x85\u2028'\"\\/ <>&+%=\x00\t\udcff")),
)
secrets_st = st.one_of(
    st.text(_CHARS, min_size=DEFAULT_MIN_LENGTH, max_size=40).map(lambda t: (_bytes(t), t)),
    st.binary(min_size=DEFAULT_MIN_LENGTH, max_size=40)
    .filter(lambda b: b"*" not in b)
    .map(lambda b: (b, b.decode("utf-8", "surrogateescape"))),
)


@settings(max_examples=400)
@given(
    secrets_st,
    st.sampled_from(list(ENCODERS)),
    st.binary(max_size=4),  # context: the bytes before the value in longer base64
    st.binary(max_size=12),
    st.binary(max_size=12),
    st.lists(st.integers(min_value=0), max_size=4),
)
def test_no_encoded_form_of_a_value_survives_masking(
    secret: tuple[bytes, str], encoder: str, context: bytes, before: bytes, after: bytes, cuts: list[int]
) -> None:
    value, text = secret
    if not _long(value):  # at least 6 characters (an undecodable byte is one)
        return
    masker = Masker(masked_forms([text if _bytes(text) == value else value]))
    for printed, part in ENCODERS[encoder](value, text, context):
        assert _long(part)
        out = feed_in_chunks(masker.fresh(), before + printed + after, cuts)
        assert part not in out, (encoder, printed)


VALUES = {
    "token": "sk-live-0123456789abcdef",
    "spaces and punctuation": "p@ss w0rd/with:all=sorts&of?chars#here",
    "quoted": 'it\'s a "quoted" value \\ with a backslash',
    "non-ASCII": "mötley-crüe-пароль-密码-🙂",
    "PEM": (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj\nAgEAAoIBAQC7VJTUt9Us8cKj\n"
        "-----END PRIVATE KEY-----\n"
    ),
    "CRLF lines": "first-line-of-it\r\nsecond-line-too\r\n",
    "lines with breaks only Python's str.splitlines knows inside": "page\x0cfeed\nnext\x1eline\r\n",
    "lines split by a break only Python's str.splitlines knows": "first-line\u2028second-line\x85third-line",
    "control characters": "tab\there\x00nul\x1bescape",
    "undecodable byte from the environment": "abc\udcffdef-ghi",
    "long, for wrapped base64": "x9-" * 100,
}


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize("name", list(VALUES))
def test_each_encoder_on_each_kind_of_value(name: str, encoder: str) -> None:
    text = VALUES[name]
    value = _bytes(text)
    masker = Masker(masked_forms([text]))
    for printed, part in ENCODERS[encoder](value, text, b"Basic user:"):
        out = feed_in_chunks(masker.fresh(), b"log: " + printed + b" end\n", [7, 30])
        assert part not in out and b"log: " in out and b" end\n" in out, (printed, out)


def test_a_file_secrets_bytes_that_are_not_utf8_are_masked_as_bytes() -> None:
    blob = bytes(range(128, 256)) + b"\x00canary\xff"
    digits = base64.b64encode(blob)
    out = feed_in_chunks(Masker(masked_forms([blob])), b"<" + blob + b">" + digits, [50, 200])
    # Only the last digit, which the bytes after the value would change, and the padding are left.
    assert out == b"<" + MASK + b">" + MASK + digits[len(_determined(digits, 0, len(blob))) :]


def test_short_values_and_short_forms_are_not_masked() -> None:
    assert masked_forms(["true", "5432", "", "abcde"]) == set()
    # A value of 6 characters gets its forms, every one at least 6 characters long.
    forms = masked_forms(["a/b c'"])
    assert b"a/b c'" in forms and b"a%2Fb%20c%27" in forms and min(map(len, forms)) >= DEFAULT_MIN_LENGTH
    # Short lines of a multi-line value are not masked on their own; the value as a whole is.
    text = "ab\ncd\nlong-enough-line"
    out = feed_in_chunks(Masker(masked_forms([text])), b"ab cd long-enough-line " + text.encode(), [])
    assert out == b"ab cd " + MASK + b" " + MASK


def test_min_length_applies_to_every_form() -> None:
    # "é" is one character; its forms are longer ("%C3%A9", "\\u00e9") but the value itself is short.
    assert masked_forms(["ééééé"]) == set()
    assert masked_forms(["ééééé"], min_length=5)
    assert all(len(f.decode("utf-8", "surrogateescape")) >= 9 for f in masked_forms(["abcdefghi"], min_length=9))


def test_what_is_not_masked_passes_through() -> None:
    # The README's list of what --mask does not hide, each checked: other encodings, part of a value, a value
    # built from pieces, the base64 digit that the bytes after a value decide, and the padding.
    value = "s3cr3t-canary/token"
    masker = Masker(masked_forms([value]))
    for printed in [
        value.encode().hex().encode(),  # hex
        base64.b32encode(value.encode()),  # base32
        quote(value, safe="").lower().encode(),  # lower-case percent-escapes
        b"s3cr3t-can",  # the first 10 characters
        b"s3cr3t-" + b"canary/token"[::-1],  # a value the command built
        b"&#115;3cr3t-canary/token",  # an HTML entity
    ]:
        assert feed_in_chunks(masker.fresh(), printed, []) == printed
    digits = base64.b64encode(value.encode())
    assert feed_in_chunks(masker.fresh(), digits, []) == MASK + digits[len(value) * 8 // 6 :]
