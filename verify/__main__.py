"""``python -m verify [check [options]] ...``: run the named checks (all by default), print their figures.

Each check builds what it needs (a throw-away database, a live server) and removes
it afterwards; with ``DATABASE_URL`` set it runs on that PostgreSQL server in a
database of its own. The exit status is 1 when any check fails.

``python -m verify fuzz --max-examples 10`` passes the options after the check's
name to that check (``python -m verify fuzz --help`` lists them).
"""

from __future__ import annotations

import importlib
import os
import sys

# name -> (module with ``run(argv) -> bool``, what it shows). New checks add a line here.
CHECKS = {
    "fuzz": ("verify.fuzz", "API fuzzing with schemathesis, as each role: no 5xx, no undocumented status"),
    "load": ("verify.load", "wrk load, 100,000 cases: req/s and p95 of pages vs a bare view, all 200"),
    "faults": ("verify.faults", "database restarts, worker kills under load: none lost or twice, 503 only"),
    "restore": ("verify.restore", "backup, wipe, restore on SQLite and PostgreSQL: letters, chains, files"),
}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        for name, (_module, what) in CHECKS.items():
            print(f"  {name:<10}{what}")
        return 0
    names = [arg for arg in argv if arg in CHECKS]
    if argv and not names:
        raise SystemExit(f"verify: no check named {argv[0]}; choose from {', '.join(CHECKS)}")
    # Options belong to the check named just before them (with a single check: to it).
    plan: list[tuple[str, list[str]]] = []
    for arg in argv:
        if arg in CHECKS:
            plan.append((arg, []))
        else:
            plan[-1][1].append(arg)
    plan = plan or [(name, []) for name in CHECKS]
    verdicts = []
    for name, options in plan:
        module = importlib.import_module(CHECKS[name][0])
        verdicts.append((name, module.run(options)))
    print()
    print("== verify ==")
    for name, passed in verdicts:
        print(f"{'PASS' if passed else 'FAIL'}  {name:<10}{CHECKS[name][1]}")
    return 0 if all(passed for _name, passed in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
