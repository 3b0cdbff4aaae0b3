"""``python -m envinject``: the same as the ``envinject`` command (the Lambda wrapper uses it)."""

from .entry import main

main()
