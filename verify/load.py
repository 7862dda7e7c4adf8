"""Load test: wrk against a throw-away gunicorn with 100,000 cases in PostgreSQL; a bare view is the floor.

The server (``verify.server``) runs the production profile (gunicorn with
``config/gunicorn.conf.py``, 4 sync workers, ``DEBUG=0``, no broker) on a database
of its own, ``rebuttal_load``, dropped afterwards. Before gunicorn starts, the demo
data (``seed_demo``: cases driven through the services, with their events, letters
and history) is joined by 100,000 cases bulk-created by ``bench.data`` (a realistic
mix of states), and the statistics are refreshed (``VACUUM ANALYZE``).

The settings are the project's behind ``bench.urls`` (``verify.settings_load``): the
bare view (a tiny ``HttpResponse`` behind the same middleware and signed-in session)
comes first, the project's URLs after it. The HR specialist and the requester of the
demo are signed in by Django itself (``Client.force_login`` on the same database) and
wrk sends their session cookie.

Each page is loaded by wrk over loopback with a fixed number of connections (closed
loop: each connection sends its next request when the last one is answered): a
warm-up of every page, then rounds, each loading every page in turn for a share of
the timed duration, so that a change in the machine's load weighs on every page, the
bare view included, alike. A page's figures are its rounds together: requests per
second over their summed time, and latency percentiles merged from each round's
percentiles (0.1 to 100 in steps of 0.1, each standing for a thousandth of that
round's requests), which wrk's ``--latency`` does not give (it prints 50/75/90/99).
The Lua script also counts every status that is not 200 (wrk itself counts only
statuses outside 2xx and 3xx, and a redirect to the sign-in page would be a 302).
The check fails if any response, warm-up included, was not a 200, or any request
got no answer.

Without ``DATABASE_URL`` the same run is made on SQLite with 1,000 cases: a test of
the machinery, not the issue's figures. ``python -m verify load --help`` lists the
options.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from verify import server as live

DB_NAME = "rebuttal_load"
SETTINGS_MODULE = "verify.settings_load"
CASES = 100_000
SQLITE_CASES = 1_000
# Cases per bulk insert round (as bench.queue_page: a reference__in lookup per round).
CHUNK = 5_000
THREADS = 2
CONNECTIONS = 8
DURATION_SECONDS = 15
ROUNDS = 3
WARMUP_SECONDS = 3
# A request unanswered after this long counts as a timeout (wrk's default is 2 s).
TIMEOUT_SECONDS = 10
# The demo's HR specialist and its requester (seed_demo).
HR_USERNAME = "hana"
REQUESTER_USERNAME = "alice"
BARE_URL = "/bench/bare/"
MARKER = "LOAD-FIGURES "
ROOT = Path(__file__).resolve().parent.parent

# The latency percentiles each wrk run reports: 0.1 to 100 in steps of 0.1. Runs of one page are
# merged from them (each point standing for a thousandth of its run's requests).
GRID = 1000

# Runs in every wrk thread (init, response) and once at the end in the main one (done).
LUA_SCRIPT = """
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  responses = 0
  not200 = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    not200 = not200 + 1
  end
end

function done(summary, latency, requests)
  local counted, bad = 0, 0
  for _, thread in ipairs(threads) do
    counted = counted + thread:get("responses")
    bad = bad + thread:get("not200")
  end
  local quantiles = {}
  for i = 1, GRID do
    quantiles[i] = string.format("%.0f", latency:percentile(i * 100 / GRID))
  end
  local e = summary.errors
  io.write(string.format(
    'MARKER{"requests": %d, "duration_us": %d, "responses": %d, "not_200": %d, "wrk_non_2xx_3xx": %d, '
    .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "max_us": %.0f, '
    .. '"quantiles_us": [%s]}\\n',
    summary.requests, summary.duration, counted, bad, e.status, e.connect, e.read, e.write, e.timeout,
    latency.max, table.concat(quantiles, ",")))
end
""".replace("MARKER", MARKER).replace("GRID", str(GRID))


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    who: str  # "hr" or "requester": whose session cookie is sent
    expect: str  # text the page must contain (checked once before the load)


@dataclass(frozen=True)
class Run:
    """One wrk run of one page: what it counted, and its latency percentiles (µs) on ``GRID``."""

    requests: int
    seconds: float
    not_200: int
    failed: int  # no answer: connect, read or write errors and timeouts
    max_us: float
    quantiles_us: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Figures:
    """A page's timed runs (one per round) together, and its warm-up."""

    warmup: Run
    runs: list[Run]

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def per_second(self) -> float:
        seconds = sum(run.seconds for run in self.runs)
        return self.requests / seconds if seconds else 0.0

    def percentile_ms(self, percent: float) -> float:
        """The latency below which ``percent`` of the timed requests fell, over all rounds."""
        points = sorted((value, run.requests / GRID) for run in self.runs for value in run.quantiles_us)
        target = sum(weight for _value, weight in points) * percent / 100
        reached = 0.0
        for value, weight in points:
            reached += weight
            if reached >= target * (1 - 1e-9):
                return value / 1000
        return points[-1][0] / 1000 if points else 0.0

    @property
    def max_ms(self) -> float:
        return max(run.max_us for run in self.runs) / 1000

    @property
    def not_200(self) -> int:
        return sum(run.not_200 for run in [self.warmup, *self.runs])

    @property
    def failed(self) -> int:
        return sum(run.failed for run in [self.warmup, *self.runs])

    @property
    def clean(self) -> bool:
        return self.not_200 == 0 and self.failed == 0 and all(run.requests for run in self.runs)


def run(argv: list[str]) -> bool:
    """Load the pages with wrk on a throw-away server; print the figures; whether every answer was a 200."""
    options = _arguments(argv)
    started = time.monotonic()
    _say("== load test (wrk) ==")
    wrk = shutil.which("wrk")
    if wrk is None:
        _say("FAIL: wrk is not installed (Debian: apt-get install wrk)")
        return False
    postgres = bool(os.environ.get("DATABASE_URL", "").strip())
    cases = options.cases if options.cases is not None else (CASES if postgres else SQLITE_CASES)
    if not postgres:
        _say(
            f"DATABASE_URL is not set: running on SQLite with {cases:,} cases. These figures test the "
            "machinery only; the issue's figures are PostgreSQL's with 100,000 cases."
        )
    _say(
        f"starting a throw-away server: migrate, seed_demo, {cases:,} bulk cases, VACUUM ANALYZE, "
        "gunicorn ..."
    )
    prepared: dict[str, Any] = {}

    def populate(env: dict[str, str]) -> None:
        prepared.update(_populate_in_subprocess(env, cases))

    server = live.start(db_name=DB_NAME, settings_module=SETTINGS_MODULE, populate=populate)
    try:
        _say(f"database:  {server.description}")
        _say(
            f"data:      {prepared['cases']:,} cases ({cases:,} bulk-created by bench.data, the rest "
            f"seed_demo's), {prepared['open_in_queue']:,} of them open; bulk-created and analysed in "
            f"{prepared['seconds']:.0f} s"
        )
        _say(
            f"server:    {server.base_url}, gunicorn ({live.WORKERS} sync workers, config/gunicorn.conf.py), "
            f"DEBUG=0, settings {SETTINGS_MODULE} (bench.urls, then config.urls), no broker, "
            "a local-memory cache per worker"
        )
        per_round = options.duration // options.rounds
        _say(
            f"load:      {_wrk_version(wrk)}, {options.threads} threads, {options.connections} connections, "
            f"loopback; {options.warmup} s warm-up per page, then {options.rounds} rounds of "
            f"{per_round} s per page"
        )
        _say(
            f"           (every round loads each page in turn, so that drift in the machine's load hits "
            f"them alike); {os.cpu_count()} CPUs shared by wrk, gunicorn and the database"
        )
        pages = _pages(prepared)
        cookies = {who: f"{prepared['cookie_name']}={key}" for who, key in prepared["sessions"].items()}
        for page in pages:
            _check_page(server.base_url, page, cookies[page.who])
        load_before = os.getloadavg()
        with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="verify-load-") as script:
            script.write(LUA_SCRIPT)
            script.flush()

            def load(page: Page, seconds: int) -> Run:
                return _wrk(
                    wrk, script.name, server.base_url + page.path, cookies[page.who], options, seconds
                )

            _say("warming up: " + ", ".join(page.path for page in pages) + " ...")
            warmups = [load(page, options.warmup) for page in pages]
            rounds: list[list[Run]] = []
            for number in range(1, options.rounds + 1):
                _say(f"round {number} of {options.rounds} ...")
                rounds.append([load(page, per_round) for page in pages])
        load_after = os.getloadavg()
        log = server.log_text()
    finally:
        server.stop()
    results = [
        (page, Figures(warmup=warmup, runs=[runs[index] for runs in rounds]))
        for index, (page, warmup) in enumerate(zip(pages, warmups, strict=True))
    ]
    ok = _report(results, prepared)
    _say(
        f"machine load average (1, 5, 15 min) before the load: {_loads(load_before)}, after: "
        f"{_loads(load_after)} ({os.cpu_count()} CPUs; other processes on the machine weigh on every figure)"
    )
    restarts = len(re.findall(r"Booting worker with pid", log)) - live.WORKERS
    _say(
        f"gunicorn workers recycled during the run: {max(restarts, 0)} (max_requests of "
        "config/gunicorn.conf.py; each new worker starts with an empty cache)"
    )
    if not ok:
        _say("server log (errors and warnings):")
        for line in _log_problems(log):
            _say(f"  {line}")
    _say(f"load test took {time.monotonic() - started:.0f} s")
    return ok


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m verify load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        type=int,
        default=None,
        help=f"cases to bulk-create (default {CASES:,} on PostgreSQL, {SQLITE_CASES:,} on SQLite)",
    )
    parser.add_argument("--threads", type=int, default=THREADS, help=f"wrk threads (default {THREADS})")
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help=f"open connections (default {CONNECTIONS})"
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=DURATION_SECONDS,
        help=f"seconds of timed load per page, over all rounds (default {DURATION_SECONDS})",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help=f"rounds over the pages; the duration must divide into whole seconds (default {ROUNDS})",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=WARMUP_SECONDS,
        help=f"seconds of warm-up per page (default {WARMUP_SECONDS})",
    )
    options = parser.parse_args(argv)
    if options.cases is not None and options.cases < 0:
        parser.error("--cases cannot be negative")
    if min(options.threads, options.connections, options.duration, options.rounds, options.warmup) < 1:
        parser.error("threads, connections, duration, rounds and warm-up must be at least 1")
    if options.connections < options.threads:
        parser.error("wrk needs at least one connection per thread")
    if options.duration % options.rounds:
        parser.error(f"{options.duration} s do not divide into {options.rounds} rounds of whole seconds")
    return options


def _pages(prepared: dict[str, Any]) -> list[Page]:
    """The bare view (the floor), HR's queue and case page, the requester's list and case page."""
    hr_case, own_case = prepared["hr_case"], prepared["requester_case"]
    return [
        Page("bare view (floor)", BARE_URL, "hr", "ok"),
        Page("HR queue", "/queue/", "hr", 'href="/cases/'),
        Page("case page, HR", f"/cases/{hr_case['id']}/", "hr", hr_case["reference"]),
        Page("requester: my cases", "/cases/", "requester", own_case["reference"]),
        Page("requester: case page", f"/cases/{own_case['id']}/", "requester", own_case["reference"]),
    ]


def _check_page(base_url: str, page: Page, cookie: str) -> None:
    """One request, redirects not followed: a 200 showing what the page must show (not the sign-in page)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", page.path, headers={"Cookie": cookie})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {page.path} as {page.who} answered {response.status} before the load")
    if page.expect not in body:
        raise RuntimeError(f"GET {page.path} as {page.who} does not show {page.expect!r}: {body[:300]!r}")


def _wrk(wrk: str, script: str, url: str, cookie: str, options: argparse.Namespace, seconds: int) -> Run:
    command = [
        wrk,
        f"--threads={options.threads}",
        f"--connections={options.connections}",
        f"--duration={seconds}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        f"--script={script}",
        f"--header=Cookie: {cookie}",
        url,
    ]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 2 * TIMEOUT_SECONDS + 30
    )
    line = next((line for line in finished.stdout.splitlines() if line.startswith(MARKER)), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    found = json.loads(line[len(MARKER) :])
    # Every answered request went through response(); the two counts can only differ if wrk changes.
    if found["responses"] != found["requests"]:
        raise RuntimeError(
            f"wrk counted {found['requests']} requests but the script saw {found['responses']}"
        )
    return Run(
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        not_200=max(found["not_200"], found["wrk_non_2xx_3xx"]),
        failed=sum(found[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        max_us=found["max_us"],
        quantiles_us=found["quantiles_us"],
    )


def _loads(loads: tuple[float, float, float]) -> str:
    return " ".join(f"{load:.2f}" for load in loads)


def _wrk_version(wrk: str) -> str:
    finished = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    first = (finished.stdout or finished.stderr).splitlines()[0]
    return " ".join(first.split()[:2])


def _report(results: list[tuple[Page, Figures]], prepared: dict[str, Any]) -> bool:
    floor = results[0][1]
    _say()
    _say(
        f"{'page':<24}{'path':<16}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'non-200':>9}{'no-resp':>9}{'x bare':>8}"
    )
    for page, figures in results:
        ratio = figures.per_second / floor.per_second if floor.per_second else 0.0
        _say(
            f"{page.label:<24}{page.path:<16}{figures.requests:>9,}{figures.per_second:>9.1f}"
            f"{figures.percentile_ms(50):>9.2f}{figures.percentile_ms(95):>9.2f}{figures.percentile_ms(99):>9.2f}"
            f"{figures.max_ms:>9.1f}{figures.not_200:>9,}{figures.failed:>9,}{ratio:>8.3f}"
        )
    hr_case, own_case = prepared["hr_case"], prepared["requester_case"]
    by_round = ", ".join(f"{run.per_second:.1f}" for run in floor.runs)
    _say(
        "(timed rounds together; non-200 and no-resp include the warm-up. x bare: the page's requests per "
        "second over the bare view's,"
    )
    _say(f" the floor; the bare view's requests per second round by round: {by_round}.")
    _say(
        f" HR is {HR_USERNAME} (hr_specialist), the requester {REQUESTER_USERNAME}, who has "
        f"{prepared['requester_cases']} cases; the HR case page shows {hr_case['reference']}"
    )
    _say(
        f" ({hr_case['events']} events), the requester's {own_case['reference']} ({own_case['events']} "
        "events). The queue's state counts are cached 60 s per worker;"
    )
    _say(" the case page writes an access record on every request.)")
    verdicts = [
        (
            f"{page.label}: every response 200",
            figures.clean,
            f"{figures.requests + figures.warmup.requests:,}",
        )
        for page, figures in results
    ]
    _say()
    for name, passed, value in verdicts:
        _say(f"{'PASS' if passed else 'FAIL'}  {name:<44}{value:>10} requests")
    return all(passed for _name, passed, _value in verdicts)


def _log_problems(log: str, limit: int = 60) -> list[str]:
    """The server log without its access lines (one JSON object per request), at most ``limit`` lines."""
    lines = [line for line in log.splitlines() if '"log": "access"' not in line and line.strip()]
    return lines[-limit:]


def _populate_in_subprocess(env: dict[str, str], cases: int) -> dict[str, Any]:
    """Run ``_populate`` in a fresh interpreter on the server's database; what it found, as a dict."""
    return live.module_json("verify.load", env, str(cases), marker=MARKER)


def _populate(cases: int) -> dict[str, Any]:
    """Bulk-create ``cases`` cases, refresh the statistics, sign HR and the requester in."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from bench import data
    from rebuttal.models import TERMINAL_STATES, RebuttalCase, Status

    started = time.monotonic()
    people = data.create_people()
    for done in range(0, cases, CHUNK):
        data.create_cases(people, min(CHUNK, cases - done))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("VACUUM")
            cursor.execute("ANALYZE")
    user_model = get_user_model()
    hr = user_model.objects.get(username=HR_USERNAME)
    requester = user_model.objects.get(username=REQUESTER_USERNAME)
    # The demo's cases went through the services: the one with the longest timeline, and the requester's.
    with_events = RebuttalCase.objects.annotate(n_events=Count("events")).filter(n_events__gt=0)
    hr_case = with_events.order_by("-n_events", "pk").first()
    own_case = with_events.filter(requester=requester).order_by("-n_events", "pk").first()
    if hr_case is None or own_case is None:
        raise RuntimeError("seed_demo left no case with events (for HR, or for the requester)")
    sessions = {}
    for who, user in (("hr", hr), ("requester", requester)):
        client = Client()
        client.force_login(user)
        sessions[who] = client.cookies[settings.SESSION_COOKIE_NAME].value
    open_states = [s for s in Status.values if s not in TERMINAL_STATES and s != Status.DRAFT]
    return {
        "cases": RebuttalCase.objects.count(),
        "open_in_queue": RebuttalCase.objects.filter(status__in=open_states, deleted_at__isnull=True).count(),
        "seconds": time.monotonic() - started,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "sessions": sessions,
        "hr_case": {"id": hr_case.pk, "reference": hr_case.reference, "events": hr_case.n_events},
        "requester_case": {
            "id": own_case.pk,
            "reference": own_case.reference,
            "events": own_case.n_events,
        },
        "requester_cases": RebuttalCase.objects.filter(requester=requester, deleted_at__isnull=True).count(),
    }


def _say(text: str = "") -> None:
    print(text, flush=True)


if __name__ == "__main__":
    # ``python -m verify.load <cases>``: the populating step, run by ``run`` in the server's environment.
    print(MARKER + json.dumps(_populate(int(sys.argv[1]))), flush=True)
