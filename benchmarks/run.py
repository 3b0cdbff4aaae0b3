"""Start-up benchmark: envinject against a bare botocore script, a hand-written boto3 script and the AWS CLI,
measured as ratios in pairs.

.venv/bin/python benchmarks/run.py [--pairs 25] [--quick] [--write]

Everything talks to a moto_server on 127.0.0.1 (tests/emulator.py); nothing leaves the machine. For each
comparison the two commands alternate (A B, B A, A B, ...) and the ratio is taken per pair, so a drift of the
machine's speed hits both sides of a ratio alike; the report gives the median ratio and its interquartile range.
Instruction counts (callgrind, when valgrind is installed) and peak RSS do not depend on load. See README.md here.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
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
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.emulator import Emulator, moto_server  # noqa: E402
from tests.fake_agent import FakeAgent, fake_agent  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402

# The scripts installed next to this interpreter (the project's venv), not whatever is first on PATH.
BIN = Path(sys.executable).parent
ENVINJECT = str(BIN / "envinject")
AWS_VENV = HERE / ".aws-venv"
RESULTS = HERE / "RESULTS.md"

PAIRS = 25
QUICK_PAIRS = 5
MEMORY_RUNS = 5
COUNT_RUNS = 2  # request counts are deterministic; two runs show that they are
TIMEOUT = 300  # seconds for one command; a hang must not stall the benchmark
#: A secret and a Parameter Store path in one start, as `envinject -s APIKEYS -s ssm:///myapp/prod/` does.
PARAMETERS = 15
#: --mask throughput: how many values are masked, and the stream sizes tried: the first that takes half a second
#: beyond the start is measured (or the largest), so a fast masker is timed on enough data and a slow one ends.
MASK_VALUES = (1, 100, 20_000)
MASK_SIZES = tuple(1 << b for b in range(16, 29, 2))  # 64 KiB to 256 MiB
MASK_ENOUGH = 0.5
MASK_PAIRS = 5
#: The fleet: this many envinject starts at once, each reading FLEET_SECRETS secrets, with an agent on the machine.
FLEET_STARTS = 200
FLEET_SECRETS = 5
#: The role the 20 role secrets are read with (moto gives an assumed role's credentials the role's account).
ROLE = "arn:aws:iam::210987654321:role/bench"
#: The failover start: the primary region black-holed, one replica region, this --timeout.
FAILOVER_TIMEOUT = 10


@dataclass(frozen=True)
class Command:
    key: str
    label: str
    argv: tuple[str, ...]
    #: Variables this command runs with on top of the shared environment (the agent's token and URL).
    extra_env: tuple[tuple[str, str], ...] = ()

    def env(self, shared: dict[str, str]) -> dict[str, str]:
        return {**shared, **dict(self.extra_env)}


@dataclass(frozen=True)
class Pair:
    """One comparison: ``a`` over ``b``, with envinject's target for the ratio (None: shown, no target)."""

    a: str
    b: str
    name: str
    limit: float | None = None
    quick: bool = False  # also measured with --quick
    #: Seconds taken off A's time before the ratio (the failover's hedge delay, which the target adds).
    minus: float = 0.0


@dataclass(frozen=True)
class Aws:
    """The AWS CLI to compare with: its path and version, or why its rows are skipped."""

    path: str | None
    note: str


@dataclass
class Results:
    commands: dict[str, Command]
    ratios: dict[Pair, list[float]]  # one ratio per pair of runs
    times: dict[str, list[float]]  # seconds, every timed run of a command, whichever pair it was in
    requests: dict[str, tuple[float, dict[str, float]]]  # per run: total, per operation
    memory: dict[str, list[int]]  # peak RSS in KiB per run
    instructions: dict[str, int]  # callgrind's Ir total per command
    instructions_note: str
    mask: list[tuple[int, int, list[float]]]  # (values, stream bytes, MB/s per pair)
    pairs: int
    aws: Aws
    quick: bool
    phases: dict[str, int] = field(default_factory=dict)
    #: The fleet with the agent: requests at the AWS endpoint, at the agent, and the agent's own to AWS.
    fleet: dict[str, int] = field(default_factory=dict)
    #: Requests sent to the failover region when the primary answered 404 (None: not measured).
    failover_404: int | None = None


# --- the commands ---------------------------------------------------------------------------------------------


def secret_ids(n: int) -> list[str]:
    return [f"s{i}" for i in range(n)]


def _envinject(n: int) -> tuple[str, ...]:
    return (ENVINJECT, *(a for i in secret_ids(n) for a in ("-s", i)), "--", "true")


def commands(aws: str | None, agent: dict[str, str], blackholed: str = "") -> dict[str, Command]:
    """Every command measured, by key. ``agent``: the variables that point envinject at the local agent;
    ``blackholed``: a proxy whose primary region never answers."""
    py = sys.executable
    through = tuple(agent.items())
    role20 = (ENVINJECT, *(a for i in secret_ids(20) for a in ("-s", f"{i}?role={ROLE}")), "--", "true")
    failover = (
        ENVINJECT,
        "--timeout",
        str(FAILOVER_TIMEOUT),
        "--failover-region",
        "us-west-2",
        "-s",
        "s0",
        "--",
        "true",
    )
    out = [
        Command("role20", "envinject, 20 secrets under one role", role20),
        Command("failover1", "envinject, 1 secret, primary region black-holed, one failover region", failover,
                (("AWS_ENDPOINT_URL", blackholed),) if blackholed else ()),
        Command("agent1", "envinject through the agent, 1 secret", _envinject(1), through),
        Command("api1", "envinject --via api, 1 secret", _envinject(1), (("ENVINJECT_VIA", "api"),)),
        Command("floor1", "floor: botocore script, 1 secret", (py, str(HERE / "floor_botocore.py"), "s0")),
        Command("seed1", "seed boto3 script, 1 secret", (py, str(HERE / "seed_boto3.py"), "s0")),
        Command("env1", "envinject, 1 secret", _envinject(1)),
        Command("floor5", "floor: botocore script, 5 secrets", (py, str(HERE / "floor_botocore.py"), *secret_ids(5))),
        Command("env5", "envinject, 5 secrets", _envinject(5)),
        Command("floor20", "floor: botocore script, 20 secrets", (py, str(HERE / "floor_botocore.py"),
                                                                  *secret_ids(20))),
        Command("env20", "envinject, 20 secrets", _envinject(20)),
        Command("mixed", f"envinject, 1 secret + a path of {PARAMETERS} parameters",
                (ENVINJECT, "-s", "s0", "-s", "ssm:///bench/", "--", "true")),
        Command("version", "envinject --version", (ENVINJECT, "--version")),
        Command("help", "envinject --help", (ENVINJECT, "--help")),
        Command("pass", "python -c pass (the interpreter alone)", (py, "-c", "pass")),
        Command("botocore", "python -c 'import botocore.session'", (py, "-c", "import botocore.session")),
    ]  # fmt: skip
    if aws:
        cli = shlex.quote(aws)
        out.append(Command("aws1", "AWS CLI, 1 secret", ("sh", "-c", f"{cli} secretsmanager get-secret-value "
                                                                      "--secret-id s0")))  # fmt: skip
        both = (f"{cli} secretsmanager get-secret-value --secret-id s0 && "
                f"{cli} ssm get-parameters-by-path --path /bench --recursive --with-decryption")  # fmt: skip
        out.append(Command("aws_mixed", "AWS CLI, get-secret-value + get-parameters-by-path", ("sh", "-c", both)))
    return {c.key: c for c in out}


PAIR_LIST = [
    Pair("env1", "floor1", "one secret vs the minimal botocore script", 0.90, quick=True),
    Pair("agent1", "floor1", "one secret through the agent vs the minimal botocore script", 0.30, quick=True),
    Pair("env1", "api1", "one secret, auto with no agent installed, vs --via api", 1.03, quick=True),
    Pair("role20", "env20", "20 secrets under one role vs 20 secrets with no role", 1.15),
    Pair(
        "failover1",
        "env1",
        "primary black-holed, one failover region, less the 1 s hedge, vs a normal start",
        1.30,
        minus=1.0,
    ),
    Pair("env1", "seed1", "one secret vs the seed's boto3 script", 0.85, quick=True),
    Pair("env1", "aws1", "one secret vs the AWS CLI", 0.50, quick=True),
    Pair("env20", "env1", "20 secrets vs one secret", 1.05),
    Pair("mixed", "env1", "1 secret + an SSM path vs one secret", 1.15),
    Pair("version", "env1", "`--version` vs one secret", 0.30, quick=True),
    Pair("help", "env1", "`--help` vs one secret"),
    Pair("env5", "floor5", "5 secrets vs the botocore script fetching 5"),
    Pair("env20", "floor20", "20 secrets vs the botocore script fetching 20"),
    Pair("mixed", "aws_mixed", "1 secret + an SSM path vs the AWS CLI making the same two reads"),
]
#: Callgrind runs, in this order: the phases of a start can be read off the differences.
INSTRUCTION_KEYS = ("pass", "botocore", "floor1", "seed1", "env1", "agent1", "env20", "mixed", "version")
MEMORY_KEYS = ("floor1", "seed1", "env1", "agent1", "aws1", "floor20", "env20", "mixed")


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
            return Aws(None, f"AWS CLI rows skipped: {problem}, and `pip install awscli` failed: {detail[0]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Aws(None, f"AWS CLI rows skipped: {problem}, and installing awscli failed: {exc}")
    version = _aws_version(str(local))
    if not version:
        return Aws(None, f"AWS CLI rows skipped: {problem}, and the one in benchmarks/.aws-venv does not run")
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
    """Secrets s0..s{n-1}, each a small JSON object with two keys (distinct names, so no key overrides another),
    and a Parameter Store path of PARAMETERS parameters on two levels."""
    import boto3  # only the harness needs it, and only here

    fake = {"endpoint_url": emu.url, "region_name": "us-east-1", "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing"}  # fmt: skip
    client = boto3.client("secretsmanager", **fake)
    for i, secret_id in enumerate(secret_ids(n)):
        value = {f"S{i}_USER": f"user-{i}", f"S{i}_TOKEN": secrets.token_hex(16)}
        client.create_secret(Name=secret_id, SecretString=json.dumps(value))
    west = boto3.client("secretsmanager", **{**fake, "region_name": "us-west-2"})
    west.create_secret(Name="s0", SecretString=json.dumps({"S0_USER": "replica", "S0_TOKEN": "replica"}))
    west.create_secret(Name="west-only", SecretString=json.dumps({"W": "w"}))
    sts = boto3.client("sts", **fake)
    c = sts.assume_role(RoleArn=ROLE, RoleSessionName="bench")["Credentials"]
    other = boto3.client("secretsmanager", endpoint_url=emu.url, region_name="us-east-1",
                         aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                         aws_session_token=c["SessionToken"])  # fmt: skip
    for i, secret_id in enumerate(secret_ids(n)):
        other.create_secret(Name=secret_id, SecretString=json.dumps({f"R{i}_USER": f"user-{i}"}))
    ssm = boto3.client("ssm", **fake)
    for i in range(PARAMETERS):  # two levels, so the read is recursive and takes two pages
        name = f"/bench/{'db/' if i % 2 else ''}p{i}"
        ssm.put_parameter(Name=name, Value=secrets.token_hex(8), Type="SecureString")


def client_env(emu: Emulator, home: str) -> dict[str, str]:
    """One environment for every command: the emulator's, a PATH, and an empty HOME (no ~/.aws of this machine;
    envinject's cache of botocore's endpoints goes under it, as it would for a user)."""
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": home, "LANG": "C.UTF-8", **emu.env()}


# --- measuring ------------------------------------------------------------------------------------------------


class _Hung(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hung


def run_once(cmd: Command, env: dict[str, str], cwd: str, stdin: int | None = subprocess.DEVNULL) -> float:
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
            env=cmd.env(env),
            cwd=cwd,
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a hung `sh -c` goes with its children
        )
        try:
            code = p.wait()
        except _Hung:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise SystemExit(f"{cmd.label} did not finish within {TIMEOUT} s") from None
        elapsed = time.perf_counter() - start
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if code != 0:
        raise SystemExit(f"{cmd.label} exited {code} during the timed runs")
    return elapsed


def check(cmds: Sequence[Command], env: dict[str, str], cwd: str) -> None:
    """Run each command once with its output kept, so a broken one stops the benchmark with its error."""
    for cmd in cmds:
        r = subprocess.run(cmd.argv, env=cmd.env(env), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)  # fmt: skip
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace").strip()
            raise SystemExit(f"{cmd.label} failed with exit code {r.returncode}:\n{err}")
    # envinject must really inject, or its timings would flatter it.
    argv = [*_envinject(20)[:-1], "env"]
    r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    names = {line.split("=", 1)[0] for line in r.stdout.splitlines()}
    missing = [k for i in range(20) for k in (f"S{i}_USER", f"S{i}_TOKEN") if k not in names]
    if r.returncode != 0 or missing:
        raise SystemExit(f"envinject did not inject {missing or 'the secrets'}: {r.stderr.strip()}")


def paired(
    pair: Pair, cmds: dict[str, Command], n: int, measure: Callable[[Command], float], times: dict[str, list[float]]
) -> list[float]:
    """``n`` ratios a/b, each from one run of a and one of b back to back; the order alternates (a b, b a...)
    so that neither side always runs first. One unrecorded pair first warms both."""
    a, b = cmds[pair.a], cmds[pair.b]
    measure(a), measure(b)
    ratios = []
    for i in range(n):
        if i % 2 == 0:
            ta, tb = measure(a), measure(b)
        else:
            tb, ta = measure(b), measure(a)
        times.setdefault(a.key, []).append(ta)
        times.setdefault(b.key, []).append(tb)
        ratios.append((ta - pair.minus) / tb)
    return ratios


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
BASELINE = Command("baseline", "baseline: the wrapper spawning `true`", ("true",))


def peak_rss_kib(cmd: Command, env: dict[str, str], cwd: str) -> float:
    """Max RSS over the process's life (kept across exec, and `true` is tiny, so this is the Python part's peak);
    for `sh -c`, the largest of the commands it waited for."""
    wrapper = [sys.executable, "-I", "-S", "-c", _RSS_WRAPPER, *cmd.argv]
    r = subprocess.run(wrapper, env=cmd.env(env), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    code, maxrss = (int(x) for x in r.stdout.split()) if r.returncode == 0 else (r.returncode, 0)
    if code != 0:
        raise SystemExit(f"{cmd.label} exited {code} during the memory runs: {r.stderr.strip()}")
    return maxrss / 1024 if sys.platform == "darwin" else maxrss  # bytes on macOS, KiB on Linux


def instructions(cmd: Command, env: dict[str, str], cwd: str) -> int:
    """Instructions executed (callgrind's Ir) up to the exec of `true` or the exit.

    Callgrind loses a process's counts when it execs, so it dumps them before each execve (os.execvpe tries
    each folder on PATH in turn); the total is the sum of the dumps. Threads are counted with the process.
    """
    with tempfile.TemporaryDirectory(prefix="envinject-callgrind-") as out:
        argv = ["valgrind", "--tool=callgrind", "--dump-before=execve", f"--callgrind-out-file={out}/cg.%p",
                *cmd.argv]  # fmt: skip
        r = subprocess.run(argv, env=cmd.env(env), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT * 4)
        if r.returncode != 0:
            raise SystemExit(f"{cmd.label} exited {r.returncode} under callgrind: {r.stderr.strip()[-500:]}")
        total = 0
        for dump in Path(out).iterdir():
            for line in dump.read_text(errors="replace").splitlines():
                if line.startswith("summary:"):
                    total += int(line.split()[1])
        return total


def count_requests(
    cmds: Sequence[Command], emu: Emulator, env: dict[str, str], cwd: str
) -> dict[str, tuple[float, dict[str, float]]]:
    """Requests per run that reach the server, through a pass-through proxy (not used for the timed runs)."""
    out: dict[str, tuple[float, dict[str, float]]] = {}
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


def failover_on_404(emu: Emulator, env: dict[str, str], cwd: str) -> int:
    """Requests that reach the failover region when the primary region answers that the secret is not there."""
    with FaultProxy(emu.url) as proxy:
        argv = [ENVINJECT, "--failover-region", "us-west-2", "-s", "west-only", "--", "true"]
        r = subprocess.run(argv, env={**env, "AWS_ENDPOINT_URL": proxy.url}, cwd=cwd, capture_output=True,
                           timeout=TIMEOUT)  # fmt: skip
        if r.returncode != 125 or b"not found" not in r.stderr:
            raise SystemExit(f"a secret missing from the primary region did not fail as one: {r.stderr[-300:]!r}")
        return proxy.counts.regions["us-west-2"]


def fleet(emu: Emulator, env: dict[str, str], cwd: str, agent: FakeAgent) -> dict[str, int]:
    """FLEET_STARTS envinject starts at once, each reading FLEET_SECRETS secrets, with the agent present: what
    reached the AWS endpoint (through a counting proxy), what the agent received, and what it asked AWS for."""
    argv = [*_envinject(FLEET_SECRETS)[:-1], "true"]
    with FaultProxy(emu.url) as proxy:
        started = {**env, **agent.env(), "AWS_ENDPOINT_URL": proxy.url}
        agent.clear()
        procs = [subprocess.Popen(argv, env=started, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(FLEET_STARTS)]  # fmt: skip
        failed = [p.communicate(timeout=TIMEOUT)[1] for p in procs if p.wait(timeout=TIMEOUT) != 0]
        if failed:
            raise SystemExit(f"{len(failed)} fleet starts failed: {failed[0].decode(errors='replace')[-300:]}")
        return {"api": proxy.counts.total, "agent": sum(agent.received.values()), "agent_api": agent.api_calls}


def mask_throughput(values: int, env: dict[str, str], cwd: str, pairs: int) -> tuple[int, list[float]]:
    """MB/s of `envinject --mask` passing a stream through with ``values`` values to hide: each pair runs
    `cat STREAM` and `cat /dev/null` under the same envinject (same values, same start), and the difference
    is the time spent streaming. The values come from an env file, so no request is involved."""
    folder = Path(cwd) / f"mask-{values}"
    folder.mkdir(exist_ok=True)
    hidden = [secrets.token_hex(8) for _ in range(values)]
    (folder / "values.env").write_text("".join(f"MASK_{i}={v}\n" for i, v in enumerate(hidden)))
    line = b"2026-11-29T04:30:00Z INFO request served in 12 ms by worker 3 for tenant acme-prod\n"

    def stream(size: int) -> Path:
        for old in folder.glob("stream-*"):  # one at a time: the largest is 256 MiB
            old.unlink()
        path = folder / f"stream-{size}"
        every = max(1, len(hidden) // 50)
        lines = [line if i % 97 else f"token {hidden[(i // 97 * every) % len(hidden)]}\n".encode()
                 for i in range(size // len(line) + 1)]  # fmt: skip
        path.write_bytes(b"".join(lines)[:size])
        return path

    def under_mask(target: str) -> Command:
        return Command("mask", "mask", (ENVINJECT, "--mask", "--env-file", str(folder / "values.env"), "--",
                                        "cat", target))  # fmt: skip

    empty = under_mask(os.devnull)
    chosen = MASK_SIZES[0]
    for size in MASK_SIZES:
        chosen = size
        base = run_once(empty, env, cwd)
        took = run_once(under_mask(str(stream(size))), env, cwd) - base
        if took > MASK_ENOUGH:
            break
    full = under_mask(str(stream(chosen)))
    r = subprocess.run(full.argv, env=env, cwd=cwd, capture_output=True, timeout=TIMEOUT)
    shown = {v for v in hidden[:: max(1, len(hidden) // 50)] if v.encode() in r.stdout}  # the values the stream has
    if r.returncode != 0 or shown or b"*****" not in r.stdout:
        raise SystemExit(f"envinject --mask with {values} values did not mask the stream: {r.stderr[-300:]!r}")
    rates = []
    for i in range(pairs):
        if i % 2 == 0:
            ta, tb = run_once(full, env, cwd), run_once(empty, env, cwd)
        else:
            tb, ta = run_once(empty, env, cwd), run_once(full, env, cwd)
        rates.append(chosen / max(ta - tb, 1e-3) / 1e6)
    return chosen, rates


def measure(pairs: int, quick: bool) -> Results:
    aws = find_aws()
    print(f"aws: {aws.note}", file=sys.stderr)
    with (
        tempfile.TemporaryDirectory(prefix="envinject-bench-") as home,
        moto_server() as emu,
        fake_agent(emu.url, token=secrets.token_hex(16)) as agent,
        FaultProxy(emu.url) as blackholed,
    ):
        blackholed.region_faults["us-east-1"] = "hang"  # the primary region never answers; us-west-2 does
        cmds = commands(aws.path, agent.env(), blackholed.url)
        chosen = [p for p in PAIR_LIST if (p.quick or not quick) and p.a in cmds and p.b in cmds]
        # cwd is the empty HOME too: envinject looks for envinject.toml / pyproject.toml from its cwd upwards.
        env = client_env(emu, home)
        create_secrets(emu, 20)
        print("checking every command once", file=sys.stderr)
        check(list(cmds.values()), env, home)
        ratios: dict[Pair, list[float]] = {}
        times: dict[str, list[float]] = {}
        for i, pair in enumerate(chosen):
            print(f"  pairs {i + 1}/{len(chosen)}: {pair.name}", file=sys.stderr)
            ratios[pair] = paired(pair, cmds, pairs, lambda c: run_once(c, env, home), times)
        print("counting requests through a pass-through proxy", file=sys.stderr)
        counted = [cmds[k] for k in ("floor1", "env1", "agent1", "env5", "env20", "role20", "mixed", "aws1",
                                     "aws_mixed") if k in cmds]  # fmt: skip
        requests = count_requests(counted, emu, env, home)
        print("a primary that answers 404, with a failover region", file=sys.stderr)
        not_found = failover_on_404(emu, env, home)
        print(
            f"the fleet: {FLEET_STARTS} starts at once, {FLEET_SECRETS} secrets each, with the agent", file=sys.stderr
        )
        fleet_counts = fleet(emu, env, home, agent)
        print("peak memory", file=sys.stderr)
        memory: dict[str, list[int]] = {}
        mem_cmds = [cmds[k] for k in MEMORY_KEYS if k in cmds] + [BASELINE]
        for _ in range(min(pairs, MEMORY_RUNS)):
            for cmd in mem_cmds:
                memory.setdefault(cmd.key, []).append(int(peak_rss_kib(cmd, env, home)))
        counts: dict[str, int] = {}
        if not shutil.which("valgrind"):
            note = "valgrind is not installed: no instruction counts (`apt-get install valgrind` adds them)"
        else:
            note = "callgrind, one run each (instruction counts do not depend on load)"
            for key in INSTRUCTION_KEYS[:5] if quick else INSTRUCTION_KEYS:
                print(f"  callgrind: {cmds[key].label}", file=sys.stderr)
                counts[key] = instructions(cmds[key], env, home)
        mask = []
        for values in MASK_VALUES[:1] if quick else MASK_VALUES:
            print(f"  --mask throughput, {values} values", file=sys.stderr)
            size, rates = mask_throughput(values, env, home, min(pairs, MASK_PAIRS))
            mask.append((values, size, rates))
    return Results(cmds, ratios, times, requests, memory, counts, note, mask, pairs, aws, quick, fleet=fleet_counts,
                   failover_404=not_found)  # fmt: skip


# --- the report -----------------------------------------------------------------------------------------------


def _quartiles(xs: Sequence[float]) -> tuple[float, float, float]:
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


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


def target_rows(res: Results) -> list[tuple[str, str, str, str]]:
    """(measure, target, measured, result) for each of envinject's targets."""
    rows = []
    for pair, ratios in res.ratios.items():
        if pair.limit is None:
            continue
        lo, mid, hi = _quartiles(ratios)
        verdict = "met" if mid <= pair.limit else f"**not met** (by {mid / pair.limit - 1:.0%})"
        rows.append((pair.name + ", paired", f"<= {pair.limit:.2f}x", f"{mid:.2f}x (IQR {lo:.2f}-{hi:.2f})", verdict))
    if "aws1" not in res.commands:
        rows.append(("one secret vs the AWS CLI, paired", "<= 0.50x", res.aws.note, "not measured"))
    if res.fleet:
        got = res.fleet["api"]
        rows.append((f"{FLEET_STARTS} concurrent starts of {FLEET_SECRETS} secrets with the agent: requests envinject "
                     f"sends to the API", "0", f"{got} (the agent received {res.fleet['agent']} and asked AWS "
                     f"{res.fleet['agent_api']} times)", "met" if got == 0 else "**not met**"))  # fmt: skip
    role = res.requests.get("role20")
    if role is not None:
        ops = role[1]
        met = ops.get("AssumeRole") == 1 and ops.get("BatchGetSecretValue") == 1 and role[0] == 2
        shown = ", ".join(f"{op} {c:g}" for op, c in ops.items())
        rows.append(("requests for 20 secrets under one role", "1 AssumeRole + 1 batch", shown,
                     "met" if met else "**not met**"))  # fmt: skip
    if res.failover_404 is not None:
        got = res.failover_404
        rows.append(("primary answers 404: requests sent to the failover region", "0", str(got),
                     "met" if got == 0 else "**not met**"))  # fmt: skip
    req = res.requests.get("env20")
    if req is not None:
        rows.append(("20 secrets: requests", "1", f"{req[0]:g}", "met" if req[0] <= 1 else "**not met**"))
    env, floor = res.memory.get("env1"), res.memory.get("floor1")
    if env and floor:
        r = statistics.median(env) / statistics.median(floor)
        verdict = "met" if r <= 0.90 else f"**not met** (by {r / 0.90 - 1:.0%})"
        both = f"{_mib(statistics.median(env))} vs {_mib(statistics.median(floor))} MiB"
        rows.append(("peak RSS, one secret, vs the floor", "<= 0.90x", f"{r:.2f}x ({both})", verdict))
    return rows


def report(res: Results) -> str:
    cmds = res.commands
    lines = [
        "# envinject start-up benchmark" + (" (--quick)" if res.quick else ""),
        "",
        *machine(),
        f"- AWS CLI: {res.aws.note}",
        f"- {res.pairs} pairs per comparison after one warm-up pair; within a pair the two commands run back to "
        "back, in alternating order; one ratio per pair. moto_server on 127.0.0.1.",
        f"- instruction counts: {res.instructions_note}",
        "",
        "## Targets",
        "",
        "| measure | target | measured | result |",
        "|---|--:|--:|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in target_rows(res)]
    lines += ["", "## Paired ratios", "", "| A vs B | median A/B | IQR | pairs |", "|---|--:|--:|--:|"]
    for pair, ratios in res.ratios.items():
        lo, mid, hi = _quartiles(ratios)
        lines.append(f"| {pair.name} | {mid:.2f}x | {lo:.2f}-{hi:.2f} | {len(ratios)} |")
    lines += [
        "",
        "## Each command",
        "",
        "Wall times gathered from every pair a command ran in (so they drift with the machine; the ratios above "
        "do not), instructions, peak memory and requests.",
        "",
        "| command | median ms | IQR ms | instructions (M) | peak RSS MiB | requests/run |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for key, cmd in cmds.items():
        t = res.times.get(key)
        lo, mid, hi = _quartiles(t) if t else (0.0, 0.0, 0.0)
        ir = res.instructions.get(key)
        mem = res.memory.get(key)
        req = res.requests.get(key)
        if not (t or ir or mem):
            continue
        req_text = f"{req[0]:g} ({', '.join(f'{op} {c:g}' for op, c in req[1].items())})" if req else "—"
        lines.append(
            f"| {cmd.label} | {f'{mid * 1000:.1f}' if t else '—'} | {f'{(hi - lo) * 1000:.1f}' if t else '—'} "
            f"| {f'{ir / 1e6:.0f}' if ir else '—'} | {_mib(statistics.median(mem)) if mem else '—'} | {req_text} |"
        )
    if BASELINE.key in res.memory:
        lines.append(f"| {BASELINE.label} | — | — | — | {_mib(statistics.median(res.memory[BASELINE.key]))} | — |")
    if res.instructions:
        lines += ["", "## Where the instructions go (one secret)", "", "| step | instructions (M) | of envinject |",
                  "|---|--:|--:|"]  # fmt: skip
        ir = res.instructions
        env1 = ir.get("env1")
        steps = [
            ("the interpreter starting (`python -c pass`)", ir.get("pass")),
            ("importing botocore.session", _minus(ir.get("botocore"), ir.get("pass"))),
            ("the floor's session, client and one call (floor minus import)", _minus(ir.get("floor1"),
                                                                                       ir.get("botocore"))),
            ("envinject beyond the floor (negative: below it)", _minus(env1, ir.get("floor1"))),
        ]  # fmt: skip
        for name, value in steps:
            if value is not None and env1:
                lines.append(f"| {name} | {value / 1e6:.0f} | {value / env1:.0%} |")
        if env1 and ir.get("floor1"):
            lines.append(f"| envinject, 1 secret, total (x floor) | {env1 / 1e6:.0f} | {env1 / ir['floor1']:.2f}x |")
    if res.mask:
        lines += ["", "## `--mask` throughput", "",
                  "`envinject --mask --env-file VALUES -- cat STREAM` against the same with an empty stream, in pairs; "
                  "the difference is the streaming time. The stream is log lines with a value every 97 lines.",
                  "", "| values masked | stream MiB | median MB/s | IQR MB/s |", "|--:|--:|--:|--:|"]  # fmt: skip
        for values, size, rates in res.mask:
            lo, mid, hi = _quartiles(rates)
            lines.append(f"| {values:,} | {size / (1 << 20):g} | {_rate(mid)} | {_rate(lo)}-{_rate(hi)} |")
    return "\n".join(lines) + "\n"


def _rate(mb_per_s: float) -> str:
    return f"{mb_per_s:,.0f}" if mb_per_s >= 100 else f"{mb_per_s:.3g}"


def _minus(a: int | None, b: int | None) -> int | None:
    return a - b if a is not None and b is not None else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, help=f"pairs per comparison (default {PAIRS}; {QUICK_PAIRS} with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke check: few pairs, the main comparisons only")
    parser.add_argument("--write", action="store_true", help=f"also write the report to {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    pairs = args.pairs or (QUICK_PAIRS if args.quick else PAIRS)
    if pairs < 1:
        parser.error("--pairs must be at least 1")
    text = report(measure(pairs, args.quick))
    print(text)
    if args.write:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
