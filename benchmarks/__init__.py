"""Benchmark harness of cascade (not part of the installed package).

Run ``python -m benchmarks --help`` from the repository root. Modules:

* :mod:`benchmarks.generator` - seeded synthetic plants by size;
* :mod:`benchmarks.highspy_direct` - the MILP of :func:`cascade.build_model` written directly in highspy;
* :mod:`benchmarks.run` - the timed sweep and its Markdown/CSV table.
"""
