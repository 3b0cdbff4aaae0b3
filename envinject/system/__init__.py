"""System effects: standard streams, atomic private output files, exec, the process deadline, and whether a file
envinject was not told to read may be obeyed.

May import :mod:`envinject.errors` only, so that every layer above can use it.
"""
