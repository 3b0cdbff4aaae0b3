"""The seed's bot: it reads two API keys from its environment and never from a file."""

import os
import sys


def masked(value: str) -> str:
    """Show just enough of a key to tell which one it is."""
    return value[:3] + "..." + value[-2:] if len(value) > 8 else "*" * len(value)


def main() -> int:
    missing = [name for name in ("OPENAI", "ANTHROPIC") if not os.environ.get(name)]
    if missing:
        print(f"bot: missing {', '.join(missing)}; run me under envinject", file=sys.stderr)
        return 1
    for name in ("OPENAI", "ANTHROPIC"):
        print(f"bot: {name} = {masked(os.environ[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
