"""--version and --help must not pay for botocore: checked in sys.modules of a real process, not timed."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from envinject.cli import main
sys.argv = ["envinject", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("botocore", "boto3", "rich", "dotenv", "tomllib"))
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["run", "--help"], ["export", "--help"]])
def test_no_botocore_rich_or_parsers_at_start(args: list[str]) -> None:
    r = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, check=True)
    assert "HEAVY:\n" in r.stderr, r.stderr
