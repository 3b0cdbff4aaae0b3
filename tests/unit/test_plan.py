"""The plan's own reads: env files and templates named by the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from envinject.errors import ConfigError
from envinject.plan import read_envfile, read_template


@pytest.mark.parametrize("read", [lambda p: read_envfile(p), lambda p: read_template(str(p), "VAR")])
def test_an_unreadable_file_says_permissions_not_path(
    read: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.env"
    path.write_text("A=1\n")

    def denied(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ConfigError) as info:
        read(path)  # type: ignore[operator]
    assert "Permission denied" in info.value.message
    assert info.value.hint and "check its permissions" in info.value.hint and "check the path" not in info.value.hint


def test_a_missing_file_says_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_envfile(tmp_path / "missing.env")
    assert info.value.hint == "check the path given to --env-file"
