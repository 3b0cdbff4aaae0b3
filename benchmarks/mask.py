"""Throughput and memory of --mask's Masker with 1, 100 and 20,000 distinct values and their encoded forms.

.venv/bin/python benchmarks/mask.py            # 32 MB of log-like text per row
.venv/bin/python benchmarks/mask.py --mb 8     # a quicker run
.venv/bin/python benchmarks/mask.py --write    # also write benchmarks/MASK_RESULTS.md

The input is log-like text (words, numbers, paths) in which about one word in a hundred is one of the
values, fed in 64 KiB chunks as the supervisor's pump reads them. The values are random tokens of 12-48
characters (letters, digits, - and _), like API keys; a last row gives them spaces and punctuation too,
the slow path where no part of the text can be skipped. The Masker hides what --mask hides: each value and its
encoded forms (base64, percent-encoding, JSON and repr escaping: masked_forms), so it holds several patterns per
value; the report counts them. Memory is the peak traced by tracemalloc while the Masker is built and used, so it
counts the values themselves and every structure built from them.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import string
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from envinject.resident.mask import Masker, masked_forms

CHUNK = 64 * 1024
RESULTS = Path(__file__).with_name("MASK_RESULTS.md")
WORDS = [
    "GET", "POST", "/api/v1/items", "/healthz", "request", "took", "ms", "status=200", "user_id=", "error",
    "warning", "info", "debug", "the", "a", "to", "of", "connection", "pool", "retry", "timeout", "cache", "hit",
    "miss", "worker", "started", "stopped", "job", "queue",
]  # fmt: skip


def make_values(n: int, rng: random.Random, spaces: bool = False) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "-_" + (" .,:/=" if spaces else "")
    values: set[str] = set()
    while len(values) < n:
        values.add("".join(rng.choices(alphabet, k=rng.randint(12, 48))))
    return sorted(values)


def make_text(size: int, values: Sequence[str], rng: random.Random) -> bytes:
    out: list[str] = []
    total = 0
    while total < size:
        r = rng.random()
        word = rng.choice(values) if r < 0.01 else str(rng.randint(0, 10**6)) if r < 0.2 else rng.choice(WORDS)
        out.append(word)
        total += len(word) + 1
        if rng.random() < 0.08:
            out.append("\n")
    return " ".join(out).encode()[:size]


def measure(n: int, megabytes: int, spaces: bool = False) -> tuple[int, float, float, float]:
    """(patterns, seconds to build, MB/s, peak MiB) for n values."""
    rng = random.Random(n)
    values = make_values(n, rng, spaces)
    data = make_text(megabytes * 1_000_000, values, rng)
    started = time.perf_counter()
    patterns = masked_forms(values)
    masker = Masker(patterns)
    built = time.perf_counter() - started
    started = time.perf_counter()
    out = run(masker, data)
    seconds = time.perf_counter() - started
    assert out < len(data)  # something was masked
    # Memory on a second, traced run (tracing slows it down): the values, the Masker, one chunk's work.
    tracemalloc.start()
    run(Masker(masked_forms(values)), data[: 4 * CHUNK])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return len(patterns), built, len(data) / seconds / 1e6, peak / 2**20


def run(masker: Masker, data: bytes) -> int:
    out = 0
    for i in range(0, len(data), CHUNK):
        out += len(masker.feed(data[i : i + CHUNK]))
    return out + len(masker.flush())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=32, help="megabytes of input per row (default 32)")
    parser.add_argument("--values", type=int, nargs="*", default=[1, 100, 20_000], help="numbers of values")
    parser.add_argument("--write", action="store_true", help=f"also write the report to {RESULTS.name}")
    args = parser.parse_args(argv)
    lines = [
        "# envinject --mask throughput",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"load average {os.getloadavg()[0]:.1f} at the start",
        f"- Python {platform.python_version()}; {args.mb} MB of log-like text per row, in 64 KiB chunks",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        "| values | patterns | build | throughput | peak memory |",
        "|---|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for n in args.values:
        patterns, built, rate, peak = measure(n, args.mb)
        lines.append(f"| {n:,} | {patterns:,} | {built * 1000:.0f} ms | {rate:.0f} MB/s | {peak:.1f} MiB |")
        print(lines[-1], flush=True)
    # The slow path: values that contain spaces and punctuation share every byte of the text, so no part
    # of it can be skipped and every stride is sampled.
    patterns, built, rate, peak = measure(args.values[-1], args.mb, spaces=True)
    row = f"{args.values[-1]:,}, with spaces"
    lines.append(f"| {row} | {patterns:,} | {built * 1000:.0f} ms | {rate:.0f} MB/s | {peak:.1f} MiB |")
    print(lines[-1])
    if args.write:
        RESULTS.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
