"""File secrets end to end: --file VAR=REF, VAR=file:REF in env files and the environment, in exec mode, as
--init, with the folder fallback, and rewritten in place by --watch with --on-change signal:NAME."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ENVINJECT, Result, base_env
from tests.emulator import Emulator

Run = Callable[..., Result]
FILE_CHILD = [sys.executable, str(Path(__file__).with_name("file_child.py"))]
PEM = "-----BEGIN PRIVATE KEY-----\nMIIcanary-file-secret-key\n-----END PRIVATE KEY-----\n"
CREDS = {"type": "service_account", "private_key": "canary-private-key-2"}
BINARY = bytes(range(256)) * 3


@pytest.fixture
def world(sm: Any, emulator: Emulator) -> Any:
    sm.create_secret(Name="tls", SecretString=json.dumps({"key": PEM, "cert": "cert-canary-3"}))
    sm.create_secret(Name="gcp", SecretString=json.dumps(CREDS))
    sm.create_secret(Name="blob", SecretBinary=BINARY)
    return sm


def content(report: dict[str, Any], name: str) -> bytes:
    return base64.b64decode(report[name]["content"])


def test_exec_mode_files_hold_the_values_and_live_in_the_holder(world: Any, run: Run) -> None:
    r = run("--file", "TLS_KEY=tls#key", "--file", "GOOGLE_APPLICATION_CREDENTIALS=gcp", "--file", "BLOB=blob",
            "--", *FILE_CHILD, "TLS_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "BLOB")  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert content(report, "TLS_KEY").decode() == PEM
    assert json.loads(content(report, "GOOGLE_APPLICATION_CREDENTIALS")) == CREDS
    assert content(report, "BLOB") == BINARY  # byte for byte
    for name in ("TLS_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "BLOB"):
        assert report[name]["rereads"] and report[name]["subprocess"]
        # the holder's descriptor, not the command's: the command holds none that its children could inherit
        path = report[name]["path"]
        assert path.startswith("/proc/") and not path.startswith(f"/proc/{report['pid']}/")
    assert len({report[name]["path"].split("/")[2] for name in ("TLS_KEY", "BLOB")}) == 1  # one holder
    r.assert_no(PEM, "canary-private-key-2")


def test_a_parameter_as_a_file(emulator: Emulator, sm: Any, run: Run) -> None:
    import boto3

    ssm = boto3.client("ssm", endpoint_url=emulator.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    ssm.put_parameter(Name="/app/kubeconfig", Type="SecureString", Value="apiVersion: v1\nclusters: []\n")
    r = run("--file", "KUBECONFIG=ssm:///app/kubeconfig", "--", *FILE_CHILD, "KUBECONFIG")
    assert r.returncode == 0, r.stderr
    assert content(json.loads(r.stdout), "KUBECONFIG") == b"apiVersion: v1\nclusters: []\n"


def test_file_form_in_an_env_file_and_in_the_environment(world: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("TLS_KEY=file:sm://tls#key\nPLAIN=file:not-a-reference\n")
    r = run("--env-file", str(tmp_path / "app.env"), "--", *FILE_CHILD, "TLS_KEY", "CREDS",
            env={"CREDS": "file:sm://gcp"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert content(report, "TLS_KEY").decode() == PEM
    assert json.loads(content(report, "CREDS")) == CREDS


def test_another_user_cannot_open_the_file(world: Any, run: Run) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run the reader as another user")
    # The command (the file's owner) has cat read the path as another user, then as itself.
    code = ("import os, subprocess\n"
            "for user in (65534, None):\n"
            "    p = subprocess.run(['cat', os.environ['TLS_KEY']], user=user, group=user, capture_output=True)\n"
            "    print('read' if p.returncode == 0 and p.stdout else 'denied')\n")  # fmt: skip
    r = run("--file", "TLS_KEY=tls#key", "--", sys.executable, "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["denied", "read"]
    r.assert_no(PEM)


def test_dry_run_names_the_source_never_the_content(world: Any, run: Run) -> None:
    r = run("--file", "TLS_KEY=tls#key", "--dry-run", "--", "true")
    assert r.returncode == 0, r.stderr
    assert "TLS_KEY\t<- file:tls#key" in r.stdout
    r.assert_no(PEM, "MIIcanary")


def test_export_refuses_file_secrets(world: Any, run: Run) -> None:
    # export takes no --file (its help does not list one), and a file secret written as VAR=file:REF is refused.
    r = run("export", "--file", "TLS_KEY=tls#key")
    assert r.returncode == 125 and "No such option: --file" in r.stderr
    r = run("export", "-s", "TLS_KEY=file:tls#key")
    assert r.returncode == 125
    assert "TLS_KEY" in r.stderr and "file secret" in r.stderr
    r.assert_no(PEM)


def test_protected_names_hold_for_files(world: Any, run: Run) -> None:
    r = run("--file", "LD_PRELOAD=tls#key", "--", "true")
    assert r.returncode == 125
    assert "LD_PRELOAD" in r.stderr and "--allow" in r.stderr


def test_a_missing_key_runs_nothing(world: Any, run: Run) -> None:
    r = run("--file", "TLS_KEY=tls#nope", "--", *FILE_CHILD, "TLS_KEY")
    assert r.returncode == 125
    assert r.stdout == ""
    assert "nope" in r.stderr
    r.assert_no(PEM, "cert-canary-3")


def test_check_and_policy_see_file_secrets(world: Any, run: Run) -> None:
    r = run("check", "--file", "TLS_KEY=tls#key")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "TLS_KEY" in r.stdout
    r.assert_no(PEM)
    p = run("policy", "--account", "123456789012", "--file", "TLS_KEY=tls#key")
    assert p.returncode == 0, p.stderr
    assert "secret:tls-??????" in p.stdout


def test_init_mode_files_live_in_envinject(world: Any, run: Run) -> None:
    r = run("--init", "--file", "TLS_KEY=tls#key", "--", *FILE_CHILD, "TLS_KEY")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert content(report, "TLS_KEY").decode() == PEM
    path = report["TLS_KEY"]["path"]
    assert path.startswith("/proc/") and not path.startswith(f"/proc/{report['pid']}/")
    assert report["TLS_KEY"]["subprocess"]


#: envinject on a system without memfd_create (macOS, an old kernel), as the installed package runs it.
NO_MEMFD = [sys.executable, "-c", "import os, sys; del os.memfd_create; sys.argv[0] = 'envinject'; "
            "from envinject.cli import main; main()"]  # fmt: skip


def test_without_memfd_exec_mode_refuses(world: Any, emulator: Emulator, tmp_path: Path) -> None:
    env = {**base_env(emulator), "XDG_RUNTIME_DIR": str(tmp_path)}
    p = subprocess.run([*NO_MEMFD, "--file", "TLS_KEY=tls#key", "--", *FILE_CHILD, "TLS_KEY"], env=env,
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 125
    assert "--init" in p.stderr and p.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_without_memfd_init_uses_a_private_folder_and_removes_it(
    world: Any, emulator: Emulator, tmp_path: Path
) -> None:
    env = {**base_env(emulator), "XDG_RUNTIME_DIR": str(tmp_path)}
    code = ("import json, os, stat, sys\np = os.environ['TLS_KEY']\n"
            "print(json.dumps({'path': p, 'mode': stat.S_IMODE(os.stat(p).st_mode),"
            " 'dir': stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode), 'content': open(p).read()}))")  # fmt: skip
    p = subprocess.run([*NO_MEMFD, "--init", "--file", "TLS_KEY=tls#key", "--", sys.executable, "-c", code],
                       env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert Path(report["path"]).parent.parent == tmp_path
    assert (report["mode"], report["dir"]) == (0o600, 0o700)
    assert report["content"] == PEM
    assert list(tmp_path.iterdir()) == []  # deleted when the command exited


def test_without_memfd_sigterm_removes_the_folder(world: Any, emulator: Emulator, tmp_path: Path) -> None:
    env = {**base_env(emulator), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir()
    ready = tmp_path / "ready"
    code = f"import time; open({str(ready)!r}, 'w').close(); time.sleep(60)"
    p = subprocess.Popen([*NO_MEMFD, "--init", "--file", "TLS_KEY=tls#key", "--", sys.executable, "-c", code],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline and p.poll() is None, p.stderr.read() if p.stderr else ""
        time.sleep(0.05)
    assert len(list((tmp_path / "run").iterdir())) == 1
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 128 + signal.SIGTERM
    assert list((tmp_path / "run").iterdir()) == []


RELOADER = """
import os, signal, sys, time
log = sys.argv[1]
def write(line):
    with open(log, "a") as f:
        f.write(line + "\\n")
def reread(*_):
    write(f"read {os.getpid()} {open(os.environ['TLS_KEY']).read().strip()} {os.environ.get('LEVEL', '')}")
signal.signal(signal.SIGHUP, reread)
reread()
while True:
    time.sleep(0.05)
"""


def _log(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("stale_env", ["restart", "accept"])
def test_watch_on_change_signal_rewrites_the_file_and_signals(
    sm: Any, emulator: Emulator, tmp_path: Path, stale_env: str
) -> None:
    sm.create_secret(Name="tls", SecretString=json.dumps({"key": "first-key-canary"}))
    sm.create_secret(Name="cfg", SecretString=json.dumps({"level": "one"}))
    log = tmp_path / "log"
    extra = ["--accept-stale-env"] if stale_env == "accept" else []
    p = subprocess.Popen(
        [ENVINJECT, "--watch", "1", "--on-change", "signal:HUP", *extra, "--file", "TLS_KEY=tls#key",
         "-s", "LEVEL=cfg#level", "--", sys.executable, "-c", RELOADER, str(log)],
        env=base_env(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait(lambda: len(_log(log)) == 1)
        pid = _log(log)[0].split()[1]
        assert _log(log)[0] == f"read {pid} first-key-canary one"
        sm.put_secret_value(SecretId="tls", SecretString=json.dumps({"key": "second-key-canary"}))
        _wait(lambda: len(_log(log)) == 2)
        assert _log(log)[1] == f"read {pid} second-key-canary one"  # the same process, not restarted
        sm.put_secret_value(SecretId="cfg", SecretString=json.dumps({"level": "two"}))
        _wait(lambda: len(_log(log)) == 3)
        if stale_env == "restart":  # a variable changed: no signal can deliver it, so a new process reads both
            new_pid = _log(log)[2].split()[1]
            assert new_pid != pid and _log(log)[2] == f"read {new_pid} second-key-canary two"
        else:
            assert _log(log)[2] == f"read {pid} second-key-canary one"
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    stderr = err.decode()
    assert "files rewritten, sent SIGHUP" in stderr
    if stale_env == "restart":
        assert "changed LEVEL in the environment, which no signal can deliver; restarting" in stderr
    else:
        assert "LEVEL keep their old values (--accept-stale-env)" in stderr
    assert "canary" not in stderr


def test_on_change_needs_watch(world: Any, run: Run) -> None:
    r = run("--on-change", "signal:HUP", "-s", "tls", "--", "true")
    assert r.returncode == 125 and "--watch" in r.stderr
    r = run("--watch", "5", "--on-change", "reload", "-s", "tls", "--", "true")
    assert r.returncode == 125 and "restart or signal:NAME" in r.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_as_pid_1_with_files_templates_and_environment_references(
    world: Any, emulator: Emulator, tmp_path: Path
) -> None:
    """--init as PID 1 of a new pid namespace (a container's layout): the file paths name the holder's descriptors,
    a pid of the namespace."""
    (tmp_path / "cfg.json").write_text('{"key": {{ sm://tls#key }}}')
    code = (
        "import json, os\n"
        "env = os.environ\n"
        "print(json.dumps({'pid': os.getpid(), 'tls': env['TLS_KEY'], 'content': open(env['TLS_KEY']).read(),\n"
        "                  'cfg': json.load(open(env['CFG']))['key'], 'cert': env['CERT']}))\n"
    )
    p = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", ENVINJECT, "--init", "--file", "TLS_KEY=tls#key",
         "--file", f"CFG=@{tmp_path / 'cfg.json'}", "--", sys.executable, "-c", code],
        env={**base_env(emulator), "CERT": "sm://tls#cert"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    holder = int(report["tls"].split("/")[2])
    assert report["tls"] == f"/proc/{holder}/fd/{report['tls'].split('/')[4]}" and holder not in (1, report["pid"])
    assert report["pid"] != 1
    assert report["content"] == PEM and report["cfg"] == PEM and report["cert"] == "cert-canary-3"
    assert PEM not in p.stderr


def test_mask_hides_a_file_secrets_content(world: Any, run: Run) -> None:
    r = run("--mask", "--file", "TLS_KEY=tls#key", "--", "sh", "-c", 'cat "$TLS_KEY"; echo "path $TLS_KEY"')
    assert r.returncode == 0, r.stderr
    assert "MIIcanary" not in r.stdout and "*****" in r.stdout
    assert "path /proc/" in r.stdout  # the path is not a secret


def test_watch_restarts_on_a_rotated_environment_reference(sm: Any, emulator: Emulator, tmp_path: Path) -> None:
    sm.create_secret(Name="cfg", SecretString=json.dumps({"level": "one-canary"}))
    log = tmp_path / "log"
    child = f"import os, time\nopen({str(log)!r}, 'a').write(os.environ['LEVEL'] + '\\n')\ntime.sleep(60)\n"
    p = subprocess.Popen([ENVINJECT, "--watch", "1", "--", sys.executable, "-c", child],
                         env={**base_env(emulator), "LEVEL": "sm://cfg#level"},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait(lambda: _log(log) == ["one-canary"])
        sm.put_secret_value(SecretId="cfg", SecretString=json.dumps({"level": "two-canary"}))
        _wait(lambda: _log(log) == ["one-canary", "two-canary"])
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    assert "secret 'cfg' changed; restarting the command" in err.decode()
    assert "canary" not in err.decode()


def test_files_in_the_config_file(world: Any, run: Run, tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "cfg.json").write_text('{"k": {{ sm://tls#cert }}}')
    (tmp_path / "conf" / "envinject.toml").write_text('files = ["TLS_KEY=tls#key", "CFG=@cfg.json"]\n')
    (tmp_path / "conf" / "sub").mkdir()
    code = "import os, json; print(json.dumps([open(os.environ['TLS_KEY']).read(), open(os.environ['CFG']).read()]))"
    r = run("--", sys.executable, "-c", code, cwd=tmp_path / "conf" / "sub")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [PEM, '{"k": "cert-canary-3"}']


def test_mask_after_a_rotation_hides_the_new_content_and_not_the_path(sm: Any, emulator: Emulator) -> None:
    sm.create_secret(Name="tls", SecretString=json.dumps({"key": "first-mask-canary"}))
    loop = 'while :; do printf "%s at %s in %s\\n" "$(cat "$K")" "$K" "$$"; sleep 0.2; done'
    p = subprocess.Popen([ENVINJECT, "--watch", "1", "--mask", "--file", "K=tls#key", "--", "sh", "-c", loop],
                         env=base_env(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert p.stdout is not None
        lines = [p.stdout.readline().decode()]
        sm.put_secret_value(SecretId="tls", SecretString=json.dumps({"key": "second-mask-canary"}))
        deadline = time.monotonic() + 20
        while lines[-1].split()[-1] == lines[0].split()[-1]:  # until the restarted command prints
            assert time.monotonic() < deadline, "no restart"
            lines.append(p.stdout.readline().decode())
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    assert lines[0].startswith("***** at /proc/") and lines[-1].startswith("***** at /proc/")
    assert "canary" not in "".join(lines) and "canary" not in err.decode()


#: The command starts grandchildren the ways that pass every open descriptor on: a shell, `env -i`, and (as root)
#: `setpriv` to another user. Each lists the descriptors it holds; the last ones also try the path.
INHERITANCE = r"""
fds() { ls -l /proc/self/fd/ 2>&1 | grep -c 'memfd:envinject' ; }
echo "command $(ls -l /proc/$$/fd/ | grep -c 'memfd:envinject')"
echo "shell-child $(fds)"
echo "env-i $(env -i sh -c 'ls -l /proc/self/fd/' | grep -c 'memfd:envinject')"
echo "env-i-reads $(env -i cat "$TLS_KEY" | wc -c)"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    other="setpriv --reuid 65534 --regid 65534 --clear-groups"
    echo "other-user $($other ls -l /proc/self/fd/ | grep -c 'memfd:envinject')"
    echo "other-user-reads $($other cat "$TLS_KEY" 2>/dev/null | wc -c)"
fi
"""


@pytest.mark.parametrize("mode", [[], ["--init"], ["--watch", "60"]], ids=["exec", "init", "watch"])
def test_nothing_the_command_starts_inherits_a_file_secret(world: Any, run: Run, mode: list[str]) -> None:
    r = run(*mode, "--file", "TLS_KEY=tls#key", "--", "sh", "-c", INHERITANCE)
    assert r.returncode == 0, r.stderr
    seen = dict(line.split() for line in r.stdout.splitlines())
    # No process holds a descriptor of the file but the holder: not the command, not what it starts.
    assert (seen["command"], seen["shell-child"], seen["env-i"]) == ("0", "0", "0")
    assert seen["env-i-reads"] == str(len(PEM))  # the same user opens the path, whatever its environment
    if "other-user" in seen:
        assert (seen["other-user"], seen["other-user-reads"]) == ("0", "0")  # another user cannot, by any way
    r.assert_no(PEM, "MIIcanary")


#: A command that says when it started and when a SIGTERM stopped it.
STOPPABLE = """
import os, signal, sys, time
here = sys.argv[1]
def stop(*_):
    open(os.path.join(here, "stopped"), "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(os.path.join(here, "pid"), "w").write(str(os.getpid()))
while True:
    time.sleep(0.05)
"""


def _pid_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# The signals the report named: each used to end envinject, leaving the folder of plaintext files behind and the
# command orphaned. Every other signal of their class is covered in tests/unit/test_signals.py.
@pytest.mark.parametrize("name", ["SIGALRM", "SIGPWR", "SIGRTMIN", "SIGABRT", "SIGVTALRM", "SIGPROF", "SIGIO"])
def test_without_memfd_a_signal_that_would_end_envinject_removes_the_folder_and_stops_the_command(
    world: Any, emulator: Emulator, tmp_path: Path, name: str
) -> None:
    signum = getattr(signal, name)
    run_dir, here = tmp_path / "run", tmp_path / "here"
    run_dir.mkdir()
    here.mkdir()
    env = {**base_env(emulator), "XDG_RUNTIME_DIR": str(run_dir)}
    p = subprocess.Popen([*NO_MEMFD, "--init", "--file", "TLS_KEY=tls#key", "--", sys.executable, "-c", STOPPABLE,
                          str(here)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait(lambda: (here / "pid").exists() and bool((here / "pid").read_text()))
        pid = int((here / "pid").read_text())
        assert len(list(run_dir.iterdir())) == 1
        p.send_signal(signum)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 128 + signum
        assert list(run_dir.iterdir()) == []  # the plaintext folder is gone
        assert (here / "stopped").exists() and _pid_gone(pid)  # the command was stopped, not orphaned
        assert PEM.encode() not in out + err and b"MIIcanary" not in out + err
    finally:
        if p.poll() is None:
            p.kill()
        if (here / "pid").exists() and not _pid_gone(int((here / "pid").read_text())):
            os.kill(int((here / "pid").read_text()), signal.SIGKILL)


def test_without_memfd_the_folder_is_on_a_memory_file_system(world: Any, emulator: Emulator) -> None:
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm here")
    # No $XDG_RUNTIME_DIR: /dev/shm, a memory file system, before the temp folder on a disk.
    env = {k: v for k, v in base_env(emulator).items() if k != "XDG_RUNTIME_DIR"}
    code = "import os; print(os.environ['TLS_KEY'])"
    p = subprocess.run([*NO_MEMFD, "--init", "--file", "TLS_KEY=tls#key", "--", sys.executable, "-c", code],
                       env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert Path(p.stdout.strip()).parent.parent == Path("/dev/shm")
    assert not Path(p.stdout.strip()).parent.exists()
