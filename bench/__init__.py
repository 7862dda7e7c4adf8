"""Benchmarks of the rebuttal service, run with ``make bench`` (``python -m bench``).

Four figures, each a ratio against a floor measured in the same run on the same
throw-away database:

- a case transition through ``rebuttal.services`` against raw SQL doing the
  same writes (CPU per transition; bulk-created cases without a viewflow
  process, so the workflow hook skips the flow);
- the case list API with 10,000 cases against the same with 100 (latency);
- one human step of the rebuttal process (``case_act`` on a case with its
  viewflow process) against viewflow's own step in a bare flow (CPU and SQL
  statements per step);
- reviewer suggestions with 1,000 reviewers against 10 (latency).

Not part of the test suite: it prints the figures and writes them to
``var/bench-results.json``.
"""
