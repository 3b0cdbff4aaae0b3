"""Pure rules: reference grammar, JSON flattening, naming and protected names, bindings and precedence,
env-file and template parsing, and the output formats.

Everything here takes its inputs as arguments and returns values: no files, no environment, no network, no
printing. Modules here import only each other, :mod:`envinject.errors` and the standard library's pure parts
(never ``os``, ``subprocess``, ``socket``, botocore or the packages beside this one).
"""
