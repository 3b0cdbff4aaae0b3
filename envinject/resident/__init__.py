"""The resident modes (``--init``, ``--watch``, ``--mask``, file secrets): what runs while envinject stays the
command's parent, or leaves something behind for it.

May import :mod:`envinject.rules`, :mod:`envinject.system`, :mod:`envinject.errors` and the plan's types; never
the CLI or a command module.
"""
