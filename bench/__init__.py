"""Benchmarks of the rebuttal service, run with ``make bench`` (``python -m bench``).

Two figures, each a ratio against a floor measured in the same run on the same
throw-away database:

- a case transition through ``rebuttal.services`` against raw SQL doing the
  same writes (CPU per transition);
- the case list API with 10,000 cases against the same with 100 (latency).

Not part of the test suite: it prints the figures and writes them to
``var/bench-results.json``.
"""
