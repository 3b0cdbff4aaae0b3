"""``python -m envinject``: the same as the ``envinject`` command (the Lambda wrapper uses it)."""

from .cli import main

main()
