"""Which files envinject obeys without being told to: git's safe.directory reasoning, for a config file found on
the way up and for every file a config file names, every symbolic link on the way judged with its folder."""

from __future__ import annotations

import itertools
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envinject.configfile import find_config, load_config
from envinject.errors import ConfigError
from envinject.plan import make_plan
from envinject.settings import resolve_settings
from envinject.system.trust import Untrusted, read_trusted

SPARE = 4242  # a user and group that exist nowhere: "someone else"
ME = os.geteuid()
needs_root = pytest.mark.skipif(ME != 0, reason="giving a file to another user needs root")


@dataclass(frozen=True)
class Hop:
    """One symbolic link on the way to the file: who owns it, and the folder it sits in."""

    link_owner: int
    folder_owner: int
    folder_mode: int
    folder_group: int = 0

    def obeyed(self) -> bool:
        """The rule, written out independently of the code: the link and its folder are yours or root's, and
        no one else can replace the link (the folder is sticky, or only you, root or your private group write)."""
        if self.link_owner not in (ME, 0) or self.folder_owner not in (ME, 0):
            return False
        if self.folder_mode & stat.S_ISVTX:
            return True
        foreign_group = self.folder_mode & stat.S_IWGRP and self.folder_group != 0  # root's group is private
        return not (self.folder_mode & stat.S_IWOTH or foreign_group)


OWNERS = [ME, SPARE]
MODES = [0o755, 0o775, 0o777, 0o1777, 0o1775]
GROUPS = [0, SPARE]
hops = st.builds(Hop, *(st.sampled_from(x) for x in (OWNERS, OWNERS, MODES, GROUPS)))


def make_chain(root: Path, chain: list[Hop], target: Path) -> Path:
    """Links in folders as ``chain`` describes, the first naming the second, the last naming ``target``."""
    points_to = target
    for i, hop in reversed(list(enumerate(chain))):
        folder = root / f"hop{i}"
        folder.mkdir()
        link = folder / "link"
        link.symlink_to(points_to)
        os.lchown(link, hop.link_owner, hop.link_owner)
        os.chown(folder, hop.folder_owner, hop.folder_group)
        folder.chmod(hop.folder_mode)
        points_to = link
    return points_to


@needs_root
@settings(max_examples=150, deadline=None)
@given(chain=st.lists(hops, min_size=1, max_size=3))
def test_a_symbolic_link_is_judged_by_its_owner_and_its_folder(chain: list[Hop]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = root / "target.toml"
        target.write_text("secrets = ['x']\n")
        path = make_chain(root, chain, target)
        if all(hop.obeyed() for hop in chain):
            assert read_trusted(path) == b"secrets = ['x']\n"
        else:
            bad = next(i for i, hop in enumerate(chain) if not hop.obeyed())
            with pytest.raises(Untrusted) as e:
                read_trusted(path)
            assert e.value.reason.startswith(f"the symbolic link {str(root / f'hop{bad}' / 'link')!r} ")


@needs_root
@pytest.mark.parametrize(("owner", "mode", "group"), list(itertools.product(OWNERS, [0o644, 0o664, 0o646], [0, SPARE])))
def test_the_file_itself(tmp_path: Path, owner: int, mode: int, group: int) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    os.chown(path, owner, group)
    path.chmod(mode)
    mine = owner in (ME, 0)
    writable = mode & stat.S_IWOTH or (mode & stat.S_IWGRP and group != 0)
    if mine and not writable:
        assert read_trusted(path) == b"x"
    else:
        with pytest.raises(Untrusted):
            read_trusted(path)


def test_dot_dot_after_a_link_goes_up_from_its_target(tmp_path: Path) -> None:
    # As the kernel resolves it: link/.. is the target's parent, not the link's.
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "file").write_text("real")
    (tmp_path / "file").write_text("beside the link")
    (tmp_path / "link").symlink_to(tmp_path / "real" / "deep")
    assert read_trusted(tmp_path / "link" / ".." / "file") == b"real"
    assert read_trusted(tmp_path / "link" / ".." / "file") == (tmp_path / "link" / ".." / "file").read_bytes()


def test_a_fifo_or_a_folder_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    for path in (tmp_path / "fifo", tmp_path):  # a FIFO without a writer would hang a plain open
        with pytest.raises(Untrusted, match="not a regular file"):
            read_trusted(path)


def test_a_loop_of_links_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError, match="symbolic links"):
        read_trusted(tmp_path / "a")


# The reported breaks, as a user meets them.


@needs_root
def test_a_symlinked_config_another_user_planted_in_their_folder_is_ignored(tmp_path: Path) -> None:
    mine = tmp_path / "mine" / "envinject.toml"
    mine.parent.mkdir()
    mine.write_text('secrets = ["prod/admin"]\nallow = ["LD_PRELOAD"]\n')
    theirs = tmp_path / "shared"
    (theirs / "checkout").mkdir(parents=True)
    (theirs / "envinject.toml").symlink_to(mine)
    os.lchown(theirs / "envinject.toml", SPARE, SPARE)
    os.chown(theirs, SPARE, SPARE)
    warnings: list[str] = []
    assert find_config(theirs / "checkout", home=tmp_path, warn=warnings.append) is None
    link = str(theirs / "envinject.toml")
    assert warnings == [
        f"ignoring config file {link!r}: the symbolic link {link!r} is owned by uid {SPARE}, not by you or root"
    ]


def test_a_symlinked_config_in_a_folder_others_can_write_is_ignored(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('secrets = ["x"]\n')
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "envinject.toml").symlink_to(mine)
    shared.chmod(0o777)
    warnings: list[str] = []
    assert find_config(shared, home=tmp_path, warn=warnings.append) is None
    assert warnings == [
        f"ignoring config file {str(shared / 'envinject.toml')!r}: the symbolic link "
        f"{str(shared / 'envinject.toml')!r} is in {str(shared)!r}: others can write to it"
    ]
    shared.chmod(0o1777)  # sticky, as /tmp: only the link's owner can replace it
    assert find_config(shared, home=tmp_path, warn=warnings.append) is not None


def test_a_symlinked_config_of_your_own_is_obeyed(tmp_path: Path) -> None:
    (tmp_path / "dotfiles").mkdir()
    (tmp_path / "dotfiles" / "envinject.toml").write_text('secrets = ["x"]\n')
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "envinject.toml").symlink_to("../dotfiles/envinject.toml")
    found = find_config(tmp_path / "project", home=tmp_path, warn=pytest.fail)
    assert found is not None and found.values["secrets"] == ("x",)


def named(tmp_path: Path, kind: str, name: str) -> tuple[Path, Path]:
    """A config file in tmp_path/project naming ``name`` (as an env file or a template), and the file's path."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    config = project / "envinject.toml"
    config.write_text(f'env-files = ["{name}"]\n' if kind == "env file" else f'files = ["CFG=@{name}"]\n')
    return config, project / name


def plan_for(config: Path) -> None:
    """Make the plan a run makes from this config file: every file it names is read, nothing is sent."""
    found = load_config(config, warn=pytest.fail)
    assert found is not None
    make_plan(resolve_settings({}, {}, found), {})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


KINDS = ["env file", "template"]
CONTENT = {"env file": "LD_PRELOAD=/tmp/x.so\n", "template": "{{ sm://canary-never-read }}\n"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["another owner", "others can write", "a foreign group can write"])
def test_a_file_a_config_names_is_held_to_the_config_rule(tmp_path: Path, kind: str, how: str) -> None:
    if how != "others can write" and ME != 0:
        pytest.skip("giving a file to another user or group needs root")
    config, path = named(tmp_path, kind, "../shared/t")
    write(path, CONTENT[kind])
    reason = {
        "another owner": f"it is owned by uid {SPARE}, not by you or root",
        "others can write": "others can write to it",
        "a foreign group can write": f"group {SPARE} can write to it",
    }[how]
    if how == "another owner":
        os.chown(path, SPARE, SPARE)
    elif how == "others can write":
        path.chmod(0o666)
    else:
        os.chown(path, ME, SPARE)
        path.chmod(0o664)
    with pytest.raises(ConfigError) as e:
        plan_for(config)
    assert e.value.message == f"{kind} {str(path)!r} named in {str(config)!r} is not obeyed: {reason}"
    assert "canary" not in str(e.value) and "LD_PRELOAD" not in str(e.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_a_config_names_through_a_link_others_could_replace_is_refused(tmp_path: Path, kind: str) -> None:
    real = write(tmp_path / "mine" / "t", CONTENT[kind])
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "t").symlink_to(real)
    shared.chmod(0o777)
    config, _ = named(tmp_path, kind, "../shared/t")
    with pytest.raises(ConfigError, match=r"is in .*: others can write to it"):
        plan_for(config)


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_a_config_names_that_is_yours_is_read(tmp_path: Path, kind: str) -> None:
    config, path = named(tmp_path, kind, "../shared/t")
    write(path, "A=1\n" if kind == "env file" else "plain\n")
    plan_for(config)


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_an_explicit_config_names_is_held_to_the_rule_too(tmp_path: Path, kind: str) -> None:
    # --config vouches for that one file (read whoever can write it), not for every file it names.
    config, path = named(tmp_path, kind, "t")
    write(path, CONTENT[kind]).chmod(0o666)
    config.chmod(0o666)
    found = load_config(config, warn=pytest.fail)  # as --config reads it
    assert found is not None
    with pytest.raises(ConfigError, match="others can write to it"):
        make_plan(resolve_settings({}, {}, found), {})


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_file_named_on_the_command_line_is_read_as_it_is(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path / "t", "A=1\n" if kind == "env file" else "plain\n")
    path.chmod(0o666)
    given = {"env_files": [str(path)]} if kind == "env file" else {"files": [f"CFG=@{path}"]}
    make_plan(resolve_settings(given, {}), {})
