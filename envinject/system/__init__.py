"""System effects: standard streams, atomic private output files, exec and the process deadline.

May import :mod:`envinject.errors` only, so that every layer above can use it.
"""
