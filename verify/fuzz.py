"""API fuzzing: schemathesis against the live OpenAPI schema, as each role, on a throw-away server.

The server (``verify.server``) runs the production profile (gunicorn, ``DEBUG=0``) on
its own database with the demo data. Each identity below gets a token from
``POST /api/v1/auth/token/`` (anonymous sends none) and schemathesis generates
requests for every operation of ``/api/schema/`` (examples, coverage and fuzzing
phases, valid and invalid data) with the checks ``not_a_server_error`` and
``status_code_conformance``.

Every response is also counted here, from schemathesis's ``after_call`` hook, so the
figures are per request, not per distinct failure: requests sent, responses by
status class, 5xx, and statuses the schema does not document for the operation
(a request sent with a method the operation does not have is counted, but its
status is not held against the schema). Each failing (operation, status) is printed
once with a curl reproducer and, for a 5xx, the server's traceback (matched by the
request id every response carries in ``X-Request-ID``).

No operation is excluded: the API has no way to delete a user or a token, so no
generated request can take away the identities the run signs in with.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shlex
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from verify import server as live

SCHEMA_PATH = "/api/schema/"
TOKEN_PATH = "/api/v1/auth/token/"
# (role, demo username); the passwords are seed_demo's. Anonymous sends no credentials.
IDENTITIES = (
    ("anonymous", None),
    ("requester", "alice"),
    ("hr_specialist", "hana"),
    ("hr_admin", "adam"),
    ("reviewer", "rita"),
    ("endorser", "ethan"),
    ("decision_maker", "dora"),
    ("supervisor", "sam"),
)
CHECKS = ("not_a_server_error", "status_code_conformance")
PHASES = ("examples", "coverage", "fuzzing")
MAX_EXAMPLES = 10
MIN_CASES = 5_000
WORKERS = 4
SEED = 2026
# For all roles: each gets an equal share of what is left; its engine is stopped when that is spent.
TIME_BUDGET_SECONDS = 12 * 60
REQUEST_TIMEOUT_SECONDS = 30
# Lines of the server's traceback printed for a failing operation, and characters of its reproducer.
TRACEBACK_LINES = 40
CURL_CHARACTERS = 1_000
RESULTS_FILE = live.ROOT / "var" / "verify-fuzz.json"


@dataclass
class Finding:
    """Every response of one kind (5xx or undocumented) from one operation with one status."""

    role: str
    operation: str
    status: int
    kind: str
    curl: str
    request_id: str
    count: int = 1
    traceback: str = ""


@dataclass
class RoleFigures:
    role: str
    requests: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    undocumented: int = 0
    network_errors: int = 0
    fuzzer_errors: int = 0
    operations: int = 0
    schemathesis_failures: int = 0
    elapsed: float = 0.0
    stopped_early: bool = False
    findings: dict[tuple[str, int, str], Finding] = field(default_factory=dict)


class _Recorder:
    """Counts each response (an ``after_call`` hook: called from schemathesis's worker threads)."""

    def __init__(self, figures: RoleFigures, base_url: str, token: str | None) -> None:
        self.figures = figures
        self.base_url = base_url
        self.token = token
        self.lock = threading.Lock()

    def after_call(self, context: Any, case: Any, response: Any) -> None:
        operation = case.operation
        status = response.status_code
        sent_method = (response.request.method or "").upper()
        kinds = []
        if status >= 500:
            kinds.append("5xx")
        if sent_method == operation.method.upper() and not _documented(status, operation):
            kinds.append("undocumented")
        request_id = _header(response.headers, "x-request-id")
        with self.lock:
            figures = self.figures
            figures.requests += 1
            figures.by_class[f"{status // 100}xx"] += 1
            if "5xx" in kinds:
                figures.server_errors += 1
            if "undocumented" in kinds:
                figures.undocumented += 1
            for kind in kinds:
                key = (operation.label, status, kind)
                if key in figures.findings:
                    figures.findings[key].count += 1
                    continue
                figures.findings[key] = Finding(
                    role=figures.role,
                    operation=operation.label,
                    status=status,
                    kind=kind,
                    curl=self._curl(response.request),
                    request_id=request_id,
                )

    def _curl(self, request: Any) -> str:
        """The request exactly as sent, as a curl command with the token and address as variables."""
        parts = ["curl", "-X", request.method]
        for name, value in request.headers.items():
            if name.lower() in ("user-agent", "accept-encoding", "connection", "content-length"):
                continue
            if name.lower().startswith("x-schemathesis"):
                continue
            if self.token and name.lower() == "authorization":
                parts += ["-H", f"{name}: Token $TOKEN"]
                continue
            parts += ["-H", f"{name}: {value}"]
        body = request.body
        if body:
            text = body.decode("utf-8", errors="backslashreplace") if isinstance(body, bytes) else str(body)
            parts += ["--data-binary", text]
        url = request.url.replace(self.base_url, "$BASE")
        quoted = " ".join(shlex.quote(part) for part in parts)
        # The variables stay outside single quotes so that the shell expands them.
        quoted = quoted.replace("'Authorization: Token $TOKEN'", '"Authorization: Token $TOKEN"')
        return f'{quoted} "{url}"' if "$BASE" in url else f"{quoted} {shlex.quote(url)}"


def _header(headers: Any, name: str) -> str:
    value = headers.get(name) or headers.get(name.title()) or ""
    return value[0] if isinstance(value, list) and value else str(value or "")


def _documented(status: int, operation: Any) -> bool:
    """Whether the schema documents ``status`` for ``operation`` (exactly, as ``5XX``, or by ``default``)."""
    keys = {str(key).upper() for key in operation.definition.raw.get("responses", {})}
    return "DEFAULT" in keys or str(status) in keys or f"{status // 100}XX" in keys


def _token(base_url: str, username: str, password: str) -> str:
    response = requests.post(
        f"{base_url}{TOKEN_PATH}", json={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return response.json()["token"]


def _config(base_url: str, token: str | None, options: argparse.Namespace) -> Any:
    from schemathesis.config import SchemathesisConfig

    checks: dict[str, Any] = {"enabled": False}
    checks.update({name: {"enabled": True} for name in CHECKS})
    phases: dict[str, Any] = {name: {"enabled": name in PHASES} for name in PHASES + ("stateful",)}
    data: dict[str, Any] = {
        "seed": options.seed,
        "base-url": base_url,
        "workers": options.workers,
        "request-timeout": REQUEST_TIMEOUT_SECONDS,
        "checks": checks,
        "phases": phases,
        "generation": {"mode": "all", "max-examples": options.max_examples, "database": "none"},
        # The reproducers are built here, with the token as a variable.
        "output": {"sanitization": {"enabled": False}},
        "warnings": False,
        # Generation efficiency, not the API's behaviour: a body schema whose examples are mostly
        # filtered out (the transition body) would otherwise end that operation's fuzzing early.
        "suppress-health-check": ["filter_too_much", "too_slow", "data_too_large"],
    }
    if token:
        data["headers"] = {"Authorization": f"Token {token}"}
    return SchemathesisConfig.from_dict(data)


def _serialise_ast_parse() -> None:
    """Let one thread at a time run ``ast.parse`` in this process.

    CPython 3.11 keeps the AST builder's recursion depth per interpreter, not per thread:
    hypothesis describing a lambda (``ast.parse`` of its source) in two of schemathesis's
    worker threads at once fails with ``SystemError: AST constructor recursion depth
    mismatch`` and leaves that operation's phase unfinished.
    """
    if getattr(ast.parse, "serialised", False):
        return
    lock = threading.Lock()
    parse = ast.parse

    def serialised_parse(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    serialised_parse.serialised = True  # type: ignore[attr-defined]
    ast.parse = serialised_parse  # type: ignore[assignment]


def fuzz_role(
    base_url: str, role: str, token: str | None, options: argparse.Namespace, seconds: float
) -> RoleFigures:
    """Run schemathesis as one identity for at most ``seconds`` and count every response."""
    import schemathesis
    from schemathesis.engine import Status, events, from_schema

    figures = RoleFigures(role=role)
    schema = schemathesis.openapi.from_url(
        f"{base_url}{SCHEMA_PATH}", config=_config(base_url, token, options), timeout=30
    )
    figures.operations = sum(1 for result in schema.get_all_operations() if result.ok())
    recorder = _Recorder(figures, base_url, token)
    schema.hooks.register_hook_with_name(recorder.after_call, "after_call")
    started = time.monotonic()
    deadline = started + seconds
    stream = from_schema(schema).execute()
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                figures.schemathesis_failures += sum(1 for check in checks if check.status == Status.FAILURE)
        elif isinstance(event, events.NonFatalError):
            # A request that got no answer (refused, reset, timed out) counts against the server;
            # an error inside schemathesis itself only leaves that operation's phase unfinished.
            if isinstance(event.value, requests.RequestException):
                figures.network_errors += 1
            else:
                figures.fuzzer_errors += 1
            message = (event.info.message.strip().splitlines() or [""])[0]
            _say(f"  {role}: {event.label}: {event.info.title}: {message}"[:300])
        elif isinstance(event, events.FatalError):
            raise RuntimeError(f"schemathesis stopped as {role}: {event.exception!r}")
        if time.monotonic() > deadline and not figures.stopped_early:
            figures.stopped_early = True
            stream.stop()
    figures.elapsed = time.monotonic() - started
    return figures


def _tracebacks(log: str) -> dict[str, str]:
    """The server log's ERROR records (traceback included), by request id."""
    starts = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} |\{"ts": |\[\d{4}-)')
    records: list[list[str]] = []
    for line in log.splitlines():
        if starts.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    found: dict[str, str] = {}
    pattern = re.compile(r"^\S+ \S+ (ERROR|CRITICAL)\s+\S+ \[([^\]]+)\]")
    for record in records:
        match = pattern.match(record[0])
        if match and len(record) > 1:
            found.setdefault(match.group(2), "\n".join(record))
    return found


def _shorten(traceback: str) -> str:
    lines = traceback.splitlines()
    if len(lines) <= TRACEBACK_LINES:
        return traceback
    return "\n".join([*lines[:3], "    ...", *lines[-(TRACEBACK_LINES - 4) :]])


def _say(line: str = "") -> None:
    print(line, flush=True)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m verify fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES, help="per operation and phase")
    parser.add_argument("--workers", type=int, default=WORKERS, help="schemathesis's concurrent requests")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--time-budget", type=int, default=TIME_BUDGET_SECONDS, help="seconds, all roles")
    parser.add_argument(
        "--roles", default=",".join(role for role, _ in IDENTITIES), help="comma-separated, of: %(default)s"
    )
    parser.add_argument("--json", default=str(RESULTS_FILE), help="results file (%(default)s)")
    options = parser.parse_args(argv)
    known = dict(IDENTITIES)
    chosen = [role.strip() for role in options.roles.split(",") if role.strip()]
    unknown = [role for role in chosen if role not in known]
    if unknown:
        parser.error(f"no role named {', '.join(unknown)}")
    options.identities = [(role, known[role]) for role in chosen]
    return options


def run(argv: list[str]) -> bool:
    """Fuzz the live API as each role; print the figures; whether the API passed."""
    import schemathesis

    options = _arguments(argv)
    started = time.monotonic()
    _say("== API fuzzing (schemathesis) ==")
    _say("starting a throw-away server: migrate, seed_demo, gunicorn ...")
    server = live.start()
    try:
        _say(f"database:  {server.description}")
        _say(f"server:    {server.base_url} (gunicorn, {live.WORKERS} workers, DEBUG=0)")
        _say(
            f"fuzzer:    schemathesis {schemathesis.__version__}, phases {', '.join(PHASES)}, "
            f"max {options.max_examples} examples, {options.workers} workers, seed {options.seed}, "
            f"checks {', '.join(CHECKS)}"
        )
        passwords = _demo_passwords()
        _serialise_ast_parse()
        results = []
        budget_ends = time.monotonic() + options.time_budget
        for index, (role, username) in enumerate(options.identities):
            token = _token(server.base_url, username, passwords[username]) if username else None
            _say(f"fuzzing as {role}" + (f" ({username})" if username else " (no credentials)") + " ...")
            # What is left of the budget, shared by the roles still to run.
            seconds = (budget_ends - time.monotonic()) / (len(options.identities) - index)
            results.append(fuzz_role(server.base_url, role, token, options, seconds))
        tracebacks = _tracebacks(server.log_text())
    finally:
        server.stop()
    for figures in results:
        for finding in figures.findings.values():
            finding.traceback = tracebacks.get(finding.request_id, "")
    ok = _report(results, options)
    if options.json:
        _write_json(options.json, results)
        _say(f"results written to {options.json}")
    _say(f"fuzzing took {time.monotonic() - started:.0f} s")
    return ok


def _demo_passwords() -> dict[str, str]:
    """seed_demo's logins (importing the command needs Django set up on the throw-away database)."""
    import django

    django.setup()
    from workflow.management.commands.seed_demo import DEMO_PEOPLE

    return {username: password for username, password, *_rest in DEMO_PEOPLE}


def _report(results: list[RoleFigures], options: argparse.Namespace) -> bool:
    _say()
    _say(
        f"{'role':<16}{'ops':>5}{'requests':>10}{'2xx':>8}{'3xx':>6}{'4xx':>8}{'5xx':>6}"
        f"{'undoc':>7}{'no-resp':>9}{'seconds':>9}"
    )
    for figures in results:
        by_class = figures.by_class
        _say(
            f"{figures.role:<16}{figures.operations:>5}{figures.requests:>10,}{by_class['2xx']:>8,}"
            f"{by_class['3xx']:>6,}{by_class['4xx']:>8,}{figures.server_errors:>6,}{figures.undocumented:>7,}"
            f"{figures.network_errors:>9,}{figures.elapsed:>9.0f}"
            + ("  (time budget spent)" if figures.stopped_early else "")
        )
    total = sum(figures.requests for figures in results)
    server_errors = sum(figures.server_errors for figures in results)
    undocumented = sum(figures.undocumented for figures in results)
    network_errors = sum(figures.network_errors for figures in results)
    _say(
        f"{'total':<16}{'':>5}{total:>10,}{'':>8}{'':>6}{'':>8}{server_errors:>6,}{undocumented:>7,}"
        f"{network_errors:>9,}"
    )
    _say("(requests: every request sent, each one a generated test case; undoc: a status the schema does")
    _say(" not document for the operation; no-resp: a request that got no answer)")
    failing = sum(figures.schemathesis_failures for figures in results)
    _say(f"schemathesis's own check failures (distinct, after shrinking): {failing}")
    fuzzer_errors = sum(figures.fuzzer_errors for figures in results)
    if fuzzer_errors:
        _say(f"errors inside schemathesis (that operation's phase left unfinished): {fuzzer_errors}")
    _findings(results)
    verdicts = [
        (f"generated cases >= {MIN_CASES:,}", total >= MIN_CASES, f"{total:,}"),
        ("responses with status 5xx == 0", server_errors == 0, f"{server_errors:,}"),
        ("undocumented status codes == 0", undocumented == 0, f"{undocumented:,}"),
        ("requests without a response == 0", network_errors == 0, f"{network_errors:,}"),
    ]
    _say()
    for name, passed, value in verdicts:
        _say(f"{'PASS' if passed else 'FAIL'}  {name:<36}{value:>10}")
    return all(passed for _name, passed, _value in verdicts)


def _findings(results: list[RoleFigures]) -> None:
    """Each failing (operation, status) once, with the roles that met it and the first reproducer."""
    grouped: dict[tuple[str, int, str], list[Finding]] = {}
    for figures in results:
        for key, finding in figures.findings.items():
            grouped.setdefault(key, []).append(finding)
    if not grouped:
        return
    _say()
    _say("== failing operations (a reproducer each: $BASE is the server, $TOKEN the role's token) ==")
    for (operation, status, kind), found in sorted(grouped.items()):
        what = "server error" if kind == "5xx" else "status not in the schema"
        count = sum(finding.count for finding in found)
        roles = ", ".join(f"{finding.role} {finding.count}" for finding in found)
        _say(f"{operation} -> {status} ({what}): {count} response{'s' if count != 1 else ''} ({roles})")
        first = found[0]
        curl = first.curl
        if len(curl) > CURL_CHARACTERS:
            curl = f"{curl[:CURL_CHARACTERS]} ... ({len(curl):,} characters: whole in the results file)"
        _say(f"  as {first.role}: {curl}")
        traceback = next((finding.traceback for finding in found if finding.traceback), "")
        if traceback:
            _say("  server log:")
            for line in _shorten(traceback).splitlines():
                _say(f"    {line}")


def _write_json(path: str, results: list[RoleFigures]) -> None:
    data = [
        {
            "role": figures.role,
            "operations": figures.operations,
            "requests": figures.requests,
            "by_class": dict(figures.by_class),
            "server_errors": figures.server_errors,
            "undocumented": figures.undocumented,
            "network_errors": figures.network_errors,
            "fuzzer_errors": figures.fuzzer_errors,
            "schemathesis_failures": figures.schemathesis_failures,
            "elapsed_seconds": round(figures.elapsed, 1),
            "stopped_early": figures.stopped_early,
            "findings": [vars(finding) for finding in figures.findings.values()],
        }
        for figures in results
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
