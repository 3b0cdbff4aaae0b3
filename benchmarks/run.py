"""Start-up benchmark: envinject against the AWS CLI, a hand-written boto3 script and a bare botocore floor.

.venv/bin/python benchmarks/run.py [--runs 15] [--quick] [--write]

Everything talks to a moto_server on 127.0.0.1 (tests/emulator.py); nothing leaves the machine. Each command is
timed as a whole process; the commands alternate within each round, after one warm-up round. See README.md here.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.emulator import Emulator, moto_server  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402

# The scripts installed next to this interpreter (the project's venv), not whatever is first on PATH.
BIN = Path(sys.executable).parent
ENVINJECT = str(BIN / "envinject")
AWS_VENV = HERE / ".aws-venv"
RESULTS = HERE / "RESULTS.md"

SIZES = (1, 5, 20)
RUNS = 15
QUICK_RUNS = 3
MEMORY_RUNS = 5
COUNT_RUNS = 2  # request counts are deterministic; two runs show that they are
TIMEOUT = 300  # seconds for one command; a hang must not stall the benchmark

ENVINJECT_LABEL = "envinject"
AWS_LABEL = "AWS CLI (one call per secret)"
SEED_LABEL = "seed boto3 script"
FLOOR_LABEL = "floor: botocore script"
#: A secret and a Parameter Store path in one start, as `envinject -s APIKEYS -s ssm:///myapp/prod/` does.
PARAMETERS = 15
MIXED_LABEL = f"envinject, secret + a path of {PARAMETERS} parameters"
AWS_MIXED_LABEL = "AWS CLI, get-secret-value + get-parameters-by-path"


@dataclass(frozen=True)
class Command:
    label: str
    n: int | None  # secrets fetched; None for commands that fetch nothing
    argv: tuple[str, ...]

    @property
    def key(self) -> tuple[str, int | None]:
        return self.label, self.n


@dataclass(frozen=True)
class Aws:
    """The AWS CLI to compare with: its path and version, or why the row is skipped."""

    path: str | None
    note: str


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run


@dataclass
class Results:
    commands: list[Command]
    times: dict[tuple[str, int | None], list[float]]  # seconds per timed run
    requests: dict[tuple[str, int | None], tuple[float, dict[str, float]]]  # per run: total, per operation
    memory: dict[tuple[str, int | None], list[int]]  # peak RSS in KiB per run
    sizes: tuple[int, ...]
    runs: int
    memory_runs: int
    aws: Aws

    def median_ms(self, label: str, n: int | None) -> float | None:
        got = self.times.get((label, n))
        return statistics.median(got) * 1000 if got else None

    def median_kib(self, label: str, n: int | None) -> float | None:
        got = self.memory.get((label, n))
        return statistics.median(got) if got else None


# --- the commands ---------------------------------------------------------------------------------------------


def secret_ids(n: int) -> list[str]:
    return [f"s{i}" for i in range(n)]


def commands(sizes: Sequence[int], aws: str | None) -> list[Command]:
    """Every command timed, in table order: per N the floor, the seed, envinject, the AWS CLI; then the rest."""
    out: list[Command] = []
    for n in sizes:
        ids = secret_ids(n)
        out.append(Command(FLOOR_LABEL, n, (sys.executable, str(HERE / "floor_botocore.py"), *ids)))
        out.append(Command(SEED_LABEL, n, (sys.executable, str(HERE / "seed_boto3.py"), *ids)))
        out.append(Command(ENVINJECT_LABEL, n, (ENVINJECT, *(a for i in ids for a in ("-s", i)), "--", "true")))
        if aws:
            calls = " && ".join(f"{shlex.quote(aws)} secretsmanager get-secret-value --secret-id {i}" for i in ids)
            out.append(Command(AWS_LABEL, n, ("sh", "-c", calls)))
    out.append(Command(MIXED_LABEL, None, (ENVINJECT, "-s", "s0", "-s", "ssm:///bench/", "--", "true")))
    if aws:
        cli = shlex.quote(aws)
        both = (f"{cli} secretsmanager get-secret-value --secret-id s0 && "
                f"{cli} ssm get-parameters-by-path --path /bench --recursive --with-decryption")  # fmt: skip
        out.append(Command(AWS_MIXED_LABEL, None, ("sh", "-c", both)))
    out.append(Command("python -c pass (interpreter floor)", None, (sys.executable, "-c", "pass")))
    out.append(Command("envinject --version", None, (ENVINJECT, "--version")))
    out.append(Command("envinject --help", None, (ENVINJECT, "--help")))
    return out


def find_aws() -> Aws:
    """A working `aws`: the one on PATH (through a pyenv shim to the real script), else one installed once into
    benchmarks/.aws-venv; else None and why."""
    found = shutil.which("aws")
    problem = "not on PATH"
    if found:
        path = _unshim(found)
        version = _aws_version(path)
        if version:
            # Versions only: a report names no path of the machine it ran on.
            shim = ", behind a pyenv shim (the real script is timed)" if path != found else ""
            return Aws(path, f"{version}, found on PATH{shim}")
        problem = "the aws on PATH does not run"
    local = AWS_VENV / "bin" / "aws"
    if not local.exists():
        print(f"aws: {problem}; installing awscli into {AWS_VENV} (once)", file=sys.stderr)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(AWS_VENV)], check=True, capture_output=True, timeout=300)
            pip = [str(AWS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "awscli"]
            subprocess.run(pip, check=True, capture_output=True, timeout=900)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
            return Aws(None, f"AWS CLI row skipped: {problem}, and `pip install awscli` failed: {detail[0]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Aws(None, f"AWS CLI row skipped: {problem}, and installing awscli failed: {exc}")
    version = _aws_version(str(local))
    if not version:
        return Aws(None, f"AWS CLI row skipped: {problem}, and the one in benchmarks/.aws-venv does not run")
    return Aws(str(local), f"{version}, installed by this benchmark into benchmarks/.aws-venv")


def _unshim(path: str) -> str:
    """The real `aws` behind a pyenv shim: the shim is a shell script that adds its own start-up to every call."""
    if Path(path).parent.name != "shims" or not shutil.which("pyenv"):
        return path
    try:
        real = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return path
    return real.stdout.strip() or path


def _aws_version(path: str) -> str | None:
    try:
        r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (r.stdout or r.stderr).strip()
    return text.split()[0] if r.returncode == 0 and text else None


# --- the emulator ---------------------------------------------------------------------------------------------


def create_secrets(emu: Emulator, n: int) -> None:
    """Secrets s0..s{n-1}, each a small JSON object with two keys (distinct names, so no key overrides another)."""
    import boto3  # only the harness needs it, and only here

    client = boto3.client(
        "secretsmanager",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for i, secret_id in enumerate(secret_ids(n)):
        value = {f"S{i}_USER": f"user-{i}", f"S{i}_TOKEN": secrets.token_hex(16)}
        client.create_secret(Name=secret_id, SecretString=json.dumps(value))
    ssm = boto3.client("ssm", endpoint_url=emu.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    for i in range(PARAMETERS):  # two levels, so the read is recursive and takes two pages
        name = f"/bench/{'db/' if i % 2 else ''}p{i}"
        ssm.put_parameter(Name=name, Value=secrets.token_hex(8), Type="SecureString")


def client_env(emu: Emulator, home: str) -> dict[str, str]:
    """One environment for every command: the emulator's, a PATH, and an empty HOME (no ~/.aws of this machine)."""
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": home, "LANG": "C.UTF-8", **emu.env()}


# --- measuring ------------------------------------------------------------------------------------------------


class _Hung(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hung


def run_once(cmd: Command, env: dict[str, str], cwd: str) -> float:
    """Wall time of the whole process, in seconds.

    No `timeout=` here: with one, Popen.wait polls with sleeps of up to 50 ms, which quantises every time to
    ~50 ms steps. A blocking wait plus SIGALRM still stops a hung command.
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        start = time.perf_counter()
        p = subprocess.Popen(
            cmd.argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a hung `sh -c` goes with its children
        )
        try:
            code = p.wait()
        except _Hung:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise SystemExit(f"{cmd.label} (N={cmd.n}) did not finish within {TIMEOUT} s") from None
        elapsed = time.perf_counter() - start
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if code != 0:
        raise SystemExit(f"{cmd.label} (N={cmd.n}) exited {code} during the timed runs")
    return elapsed


def check(cmds: Sequence[Command], env: dict[str, str], cwd: str) -> None:
    """Run each command once with its output kept, so a broken one stops the benchmark with its error."""
    for cmd in cmds:
        r = subprocess.run(cmd.argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace").strip()
            raise SystemExit(f"{cmd.label} (N={cmd.n}) failed with exit code {r.returncode}:\n{err}")
    # envinject must really inject, or its timings would flatter it.
    n = max(c.n or 0 for c in cmds)
    if n:
        argv = [ENVINJECT, *(a for i in secret_ids(n) for a in ("-s", i)), "--", "env"]
        r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
        names = {line.split("=", 1)[0] for line in r.stdout.splitlines()}
        missing = [k for i in range(n) for k in (f"S{i}_USER", f"S{i}_TOKEN") if k not in names]
        if r.returncode != 0 or missing:
            raise SystemExit(f"envinject did not inject {missing or 'the secrets'}: {r.stderr.strip()}")


def rounds(
    cmds: Sequence[Command], runs: int, measure: Callable[[Command], float], what: str
) -> dict[tuple[str, int | None], list[float]]:
    """`runs` rounds, each running every command once; the order rotates by one each round, so no command
    always follows the same neighbour (or always goes first after a pause)."""
    got: dict[tuple[str, int | None], list[float]] = {c.key: [] for c in cmds}
    for r in range(runs):
        print(f"  {what}: round {r + 1}/{runs}", file=sys.stderr)
        shift = r % len(cmds)
        for cmd in [*cmds[shift:], *cmds[:shift]]:
            got[cmd.key].append(measure(cmd))
    return got


# Linux folds the high-water RSS of the memory a process had before exec into its max RSS, and a child starts with
# its parent's (even under vfork), so measuring straight from this harness (boto3 imported) would report the
# harness. A bare interpreter spawns the command instead and reports the child's rusage: its own few MiB are the
# floor of what can be seen, shown as the "baseline" row.
_RSS_WRAPPER = """
import os, sys
null = os.open(os.devnull, os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""
BASELINE = Command("baseline: the wrapper spawning `true`", None, ("true",))


def peak_rss_kib(cmd: Command, env: dict[str, str], cwd: str) -> float:
    """Max RSS over the process's life (kept across exec, and `true` is tiny, so this is the Python part's peak);
    for `sh -c`, the largest of the commands it waited for."""
    wrapper = [sys.executable, "-I", "-S", "-c", _RSS_WRAPPER, *cmd.argv]
    r = subprocess.run(wrapper, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    code, maxrss = (int(x) for x in r.stdout.split()) if r.returncode == 0 else (r.returncode, 0)
    if code != 0:
        raise SystemExit(f"{cmd.label} (N={cmd.n}) exited {code} during the memory runs: {r.stderr.strip()}")
    return maxrss / 1024 if sys.platform == "darwin" else maxrss  # bytes on macOS, KiB on Linux


def count_requests(
    cmds: Sequence[Command], emu: Emulator, env: dict[str, str], cwd: str
) -> dict[tuple[str, int | None], tuple[float, dict[str, float]]]:
    """Requests per run that reach the server, through a pass-through proxy (not used for the timed runs)."""
    out: dict[tuple[str, int | None], tuple[float, dict[str, float]]] = {}
    with FaultProxy(emu.url) as proxy:
        proxied = {**env, "AWS_ENDPOINT_URL": proxy.url}
        for cmd in cmds:
            proxy.reset_counts()
            for _ in range(COUNT_RUNS):
                run_once(cmd, proxied, cwd)
            counts = proxy.counts
            ops = {op.rsplit(".", 1)[-1]: c / COUNT_RUNS for op, c in sorted(counts.operations.items())}
            out[cmd.key] = (counts.total / COUNT_RUNS, ops)
    return out


def measure(sizes: tuple[int, ...], runs: int, memory_runs: int) -> Results:
    aws = find_aws()
    print(f"aws: {aws.note}", file=sys.stderr)
    cmds = commands(sizes, aws.path)
    with tempfile.TemporaryDirectory(prefix="envinject-bench-") as home, moto_server() as emu:
        # cwd is the empty HOME too: envinject looks for envinject.toml / pyproject.toml from its cwd upwards.
        env = client_env(emu, home)
        create_secrets(emu, max(sizes))
        print("checking every command once", file=sys.stderr)
        check(cmds, env, home)
        rounds(cmds, 1, lambda c: run_once(c, env, home), "warm-up")
        times = rounds(cmds, runs, lambda c: run_once(c, env, home), "timing")
        print("counting requests through a pass-through proxy", file=sys.stderr)
        counted = [c for c in cmds if c.n is not None or c.label in (MIXED_LABEL, AWS_MIXED_LABEL)]
        requests = count_requests(counted, emu, env, home)
        # Memory: envinject, the floor and the seed at every N; the AWS CLI at N=1 only (its peak is per call).
        mem_cmds = [c for c in cmds if c.n is not None and (c.label != AWS_LABEL or c.n == min(sizes))]
        mem_cmds.append(BASELINE)
        memory = rounds(mem_cmds, memory_runs, lambda c: peak_rss_kib(c, env, home), "memory")
    return Results(
        commands=cmds,
        times=times,
        requests=requests,
        memory={k: [int(v) for v in vs] for k, vs in memory.items()},
        sizes=sizes,
        runs=runs,
        memory_runs=memory_runs,
        aws=aws,
    )


# --- the report -----------------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "—"


def _ratio_target(name: str, a: float | None, b: float | None, limit: float, unit: str, missing: str) -> Target:
    if a is None or not b:
        return Target(name, missing, None)
    r = a / b
    return Target(name, f"{r:.2f}x ({a:.1f} vs {b:.1f} {unit}; target <= {limit}x)", r <= limit)


def targets(res: Results) -> list[Target]:
    ms, kib = res.median_ms, res.median_kib
    one = ms(ENVINJECT_LABEL, 1)
    skipped = "not measured (--quick)"
    out = [
        _ratio_target("envinject, 1 secret <= 1.15x botocore floor", one, ms(FLOOR_LABEL, 1), 1.15, "ms", skipped),
        _ratio_target("envinject, 1 secret <= 1.05x seed boto3 script", one, ms(SEED_LABEL, 1), 1.05, "ms", skipped),
        _ratio_target("envinject, 1 secret <= 0.6x AWS CLI", one, ms(AWS_LABEL, 1), 0.6, "ms", res.aws.note),
        _ratio_target("envinject, 20 secrets <= 1.25x 1 secret", ms(ENVINJECT_LABEL, 20), one, 1.25, "ms", skipped),
        _ratio_target("envinject --help <= 0.35x the 1-secret run", ms("envinject --help", None), one, 0.35, "ms", ""),
        _ratio_target(
            "envinject --version <= 0.35x the 1-secret run", ms("envinject --version", None), one, 0.35, "ms", ""
        ),
    ]
    for n in res.sizes:
        a, b = kib(ENVINJECT_LABEL, n), kib(FLOOR_LABEL, n)
        name = f"envinject peak memory, {n} secret{'s' * (n > 1)} <= 1.15x floor"
        out.append(_ratio_target(name, a and a / 1024, b and b / 1024, 1.15, "MiB", skipped))
    out.append(
        _ratio_target(
            "envinject, secret + parameter path <= 0.6x AWS CLI", ms(MIXED_LABEL, None), ms(AWS_MIXED_LABEL, None),
            0.6, "ms", res.aws.note,
        )
    )  # fmt: skip
    per_n = {n: res.requests[(ENVINJECT_LABEL, n)][0] for n in res.sizes}
    measured = ", ".join(f"N={n}: {r:g}" for n, r in per_n.items())
    met = all(r <= math.ceil(n / 20) for n, r in per_n.items())
    out.append(Target("envinject: at most one request per 20 secrets", f"{measured} requests/run", met))
    return out


def machine() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model", "Hardware")):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {name: _version(name) for name in ("envinject", "botocore", "boto3", "typer", "moto")}
    return [
        f"- machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} (the project's virtual environment)",
        "- " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def report(res: Results, quick: bool) -> str:
    ms, kib = res.median_ms, res.median_kib
    lines = [
        "# envinject start-up benchmark" + (" (--quick)" if quick else ""),
        "",
        *machine(),
        f"- AWS CLI: {res.aws.note}",
        f"- {res.runs} timed runs per command after one warm-up round, commands alternating within each round;"
        f" medians. Memory: median of {res.memory_runs} runs. moto_server on 127.0.0.1.",
        "",
        "| command | N | median ms | IQR ms | x floor | x AWS CLI | requests/run |",
        "|---|--:|--:|--:|--:|--:|---|",
    ]
    for cmd in res.commands:
        t = res.times[cmd.key]
        q = statistics.quantiles(t, n=4) if len(t) > 1 else [t[0], t[0], t[0]]
        ref = cmd.n or min(res.sizes)  # a command that fetches nothing is compared with the N=1 rows
        reqs = res.requests.get(cmd.key)
        req = f"{reqs[0]:g} ({', '.join(f'{op} {c:g}' for op, c in reqs[1].items())})" if reqs and reqs[0] else "0"
        lines.append(
            f"| {cmd.label} | {cmd.n if cmd.n is not None else '—'} | {ms(*cmd.key):.1f} | {(q[2] - q[0]) * 1000:.1f} "
            f"| {_ratio(ms(*cmd.key), ms(FLOOR_LABEL, ref))} | {_ratio(ms(*cmd.key), ms(AWS_LABEL, ref))} "
            f"| {req if reqs else '—'} |"
        )
    lines += [
        "",
        "Rows with N — fetch nothing, or a secret and a parameter path; their ratios are to the N=1 rows.",
        "",
        "## Peak memory (max RSS of the whole process; `true` is tiny, so this is the Python part)",
        "",
        "| command | N | median MiB | x floor |",
        "|---|--:|--:|--:|",
    ]
    for key in res.memory:
        lines.append(
            f"| {key[0]} | {key[1] or '—'} | {kib(*key) / 1024:.1f} | {_ratio(kib(*key), kib(FLOOR_LABEL, key[1]))} |"
        )
    lines += ["", "## Targets", "", "| target | measured | result |", "|---|---|---|"]
    for t in targets(res):
        result = "not measured" if t.met is None else "met" if t.met else "**not met**"
        lines.append(f"| {t.name} | {t.measured} | {result} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help=f"timed runs per command (default {RUNS}; {QUICK_RUNS} with --quick)")
    parser.add_argument("--quick", action="store_true", help=f"smoke check: {QUICK_RUNS} runs, N=1 only")
    parser.add_argument("--write", action="store_true", help=f"also write the report to {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    runs = args.runs or (QUICK_RUNS if args.quick else RUNS)
    if runs < 1:
        parser.error("--runs must be at least 1")
    sizes = (1,) if args.quick else SIZES
    text = report(measure(sizes, runs, min(runs, MEMORY_RUNS)), args.quick)
    print(text)
    if args.write:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
