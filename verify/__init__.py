"""End-to-end verification of the service, run with ``python -m verify`` (``make verify``).

Each check starts what it needs on a throw-away database and prints its figures:

- ``fuzz``: schemathesis against the live OpenAPI schema as each role
  (``verify/fuzz.py``).
"""
