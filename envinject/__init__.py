"""envinject: inject AWS Secrets Manager secrets and Parameter Store parameters into a command's environment,
then exec it.

The Python API: ``envinject.fetch(*refs, **options)`` and ``envinject.load(*refs, override=True, **options)``.
"""

from __future__ import annotations

import time

#: When envinject was first imported: -v times each phase of a run from here.
STARTED = time.perf_counter()
__version__ = "0.1.0"
__all__ = ["ConfigError", "EnvinjectError", "FetchError", "NamingError", "RefError", "SecretFormatError",
           "__version__", "fetch", "load"]  # fmt: skip


def __getattr__(name: str) -> object:
    # Imported on first use, so `envinject --version` and `--help` stay fast.
    if name in ("fetch", "load"):
        from . import api

        return getattr(api, name)
    if name in __all__:
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'envinject' has no attribute {name!r}")
