from __future__ import annotations

import itertools
import random
import tracemalloc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from envinject.resident.mask import DEFAULT_MIN_LENGTH, MASK, Masker


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
@given(streams(), st.lists(st.integers(min_value=0), max_size=10))
def test_any_split_gives_what_masking_the_whole_gives(case: tuple[list[str], bytes], cuts: list[int]) -> None:
    values, data = case
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


@settings(max_examples=50)
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


@settings(max_examples=200)
@given(st.lists(st.text(ALPHABET, min_size=8, max_size=40), min_size=1, max_size=30), st.randoms())
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
