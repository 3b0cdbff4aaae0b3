"""The resident modes (``--init``, ``--watch``, ``--mask``, file secrets): what runs while envinject stays the
command's parent, or leaves something behind for it.

One job per module: :mod:`.child` owns the command's process, :mod:`.signals` the process-wide handlers,
:mod:`.reaper` the exit statuses, :mod:`.loop` the waiting, polling and restarting, all set by one
:class:`~.options.ResidentOptions`; :mod:`.watch` polls the secrets, :mod:`.output` and :mod:`.mask` hide values
in the command's output, :mod:`.memory` keeps a resident envinject's memory out of core dumps and away from other
processes, and :mod:`.secret_files` makes file secrets, which :mod:`.holder` (a program of its own) holds.

May import :mod:`envinject.rules`, :mod:`envinject.system`, :mod:`envinject.errors` and the plan's types; never
the CLI or a command module.
"""
