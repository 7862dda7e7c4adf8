"""Fault injection under load in the production profile: PostgreSQL restarts and Celery worker SIGKILLs.

Issue 8 asks for "10 PostgreSQL restarts and 50 worker SIGKILLs while cases move and
letters render: 0 lost or duplicated cases, letters or notifications; errors only
inside the outage windows and only as 503; recovery within 60 seconds each".

What runs (all on loopback, all removed afterwards):

- a PostgreSQL cluster of its own, ``verifyfaults`` on port 5433 (created with
  ``pg_createcluster`` when missing, started when down, stopped again afterwards
  if this check started it): the machine's main cluster is never restarted. A
  throw-away database ``rebuttal_faults`` on it, dropped afterwards;
- a ``redis-server`` of its own on a free port, without persistence (broker in db 0,
  cache in db 1);
- the production profile as ``scripts/prod.sh`` and the ``Procfile`` run it:
  gunicorn (``config/gunicorn.conf.py``, 4 workers), a Celery worker (prefork, 2
  processes) and Celery beat, ``DEBUG=0``, mail written as files by Django's
  file-based backend, media, audit log and mail in a temporary folder;
  ``CELERY_VISIBILITY_TIMEOUT`` 60 s (``--visibility-timeout``; the settings'
  default, which ``scripts/prod.sh`` keeps, is 3600 s: a task held by a killed
  worker's main process would come back after an hour, or the scheduler's retry
  after ten minutes). ``migrate`` and ``seed_demo`` run first, then a populating step adds one
  requester per case to come (a reviewer may review only one case of a
  requester), a reviewer with room for every case, and API tokens.

Load: client threads move cases through the HTTP API with an ``Idempotency-Key`` on
every POST, retrying on 503, on a connection error and on "in progress" (409 with
``idempotency_key_in_progress``); most go to a decision (acknowledgement and
outcome letters, the outcome letter closing the case in the worker), a tenth are
found not receivable and a tenth withdrawn. A reader thread loads pages and API
lists as HR. Every response is recorded with its start, end and status.

Faults, spread over the run and one at a time: PostgreSQL restarts
(``pg_ctlcluster restart``) and SIGKILLs of worker processes (the pool process
that is busiest, i.e. rendering, and every fifth time the worker's main process;
a supervisor thread then kills what is left of the worker and starts a new one).
Each fault's outage window runs from the fault to "healthy again": for a restart,
``/healthz`` 200 and an API request answered 200; for a kill, the worker's pool
complete again and its main process answering a control ``ping``.

Afterwards the queue is drained (bounded). Whatever is still pending then lost
its task: the scheduler's pass that would queue it again ten minutes on is run as
of then, and the queue drained again, so that the check can tell "late" from
"lost". Then the database and the mail files are read and the figures printed.
The check passes when: every case the clients meant to create exists once and
reached its end state; every case has exactly its letters (none missing, none
twice, each PDF's SHA-256 as stored); every notification the clients'
transitions call for exists once, was sent, and its Message-ID is in the mail
files exactly once (a resend carries the same Message-ID, and still counts as a
duplicate here); the audit chains are intact; every answer outside 2xx and the
protocol's 409 "in progress" was a 503 inside an outage window (a request left
unanswered fails too, and is counted apart); each fault was healthy again within
60 s; and nothing of the run needed the scheduler's ten-minute retry.

``python -m verify faults --help`` lists the options (fewer faults and a shorter
run for a quick try).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verify import server as live

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLUSTER = "verifyfaults"
CLUSTER_PORT = 5433
DB_NAME = "rebuttal_faults"
GUNICORN_WORKERS = 4
CELERY_CONCURRENCY = 2
RESTARTS = 10
KILLS = 50
SECONDS = 300
DRAIN_SECONDS = 120
# After the scheduler's pass (see ``run``), the most seconds to wait for what it queued.
RESCUE_DRAIN_SECONDS = 60
CLIENTS = 3
# The bound on each recovery.
RECOVERY_LIMIT_SECONDS = 60.0
# A fault that is not healthy again after this long is recorded as not recovered.
RECOVERY_GIVE_UP_SECONDS = 120.0
# Every fifth kill is of the worker's main process (the others of a pool process).
MAIN_KILL_EVERY = 5
# Seconds a task held by a killed worker stays invisible in Redis (README: CELERY_VISIBILITY_TIMEOUT).
VISIBILITY_TIMEOUT = 60
# A client request not answered after this long is abandoned (and retried, with the same key).
REQUEST_TIMEOUT_SECONDS = 30
# A client gives up on one call (all its retries) after this long.
CALL_GIVE_UP_SECONDS = 180
MARKER = "FAULTS-FIGURES "
STATEMENT = "My objectives were met and documented; the rating ignores the results recorded at mid-point."

# The demo's people (seed_demo) who act on every case.
HR_USERNAME, ENDORSER_USERNAME, DECISION_MAKER_USERNAME = "hana", "ethan", "dora"

# The paths a case takes: each a list of (transition, who acts, body).
DECIDE_PATH = [
    ("submit", "requester", {}),
    ("start_screening", "hr", {}),
    ("accept_receivable", "hr", {"override_justification": "Checked with the requester's office."}),
    ("invite_reviewer", "hr", {"reviewer": "<reviewer>"}),
    ("reviewer_accept", "reviewer", {"no_conflict_declaration": True}),
    (
        "submit_recommendation",
        "reviewer",
        {
            "findings": "The rating rests on one undocumented incident.",
            "recommendation": "revise",
            "recommended_rating": "successfully_meets",
            "reasons": "The documented results meet the workplan.",
        },
    ),
    ("forward_for_endorsement", "hr", {}),
    ("endorse", "endorser", {"comment": "Endorsed."}),
    (
        "decide",
        "decision_maker",
        {
            "final_rating": "successfully_meets",
            "follows_recommendation": True,
            "reasons": "The review's findings are convincing.",
        },
    ),
]
REJECT_PATH = [
    ("submit", "requester", {}),
    ("start_screening", "hr", {}),
    ("reject_not_receivable", "hr", {"reason": "Filed after the filing window closed."}),
]
WITHDRAW_PATH = [
    ("submit", "requester", {}),
    ("start_screening", "hr", {}),
    ("accept_receivable", "hr", {"override_justification": "Checked with the requester's office."}),
    ("invite_reviewer", "hr", {"reviewer": "<reviewer>"}),
    ("withdraw", "requester", {"reason": "Resolved with my supervisor."}),
]
PATHS = {"decide": DECIDE_PATH, "reject": REJECT_PATH, "withdraw": WITHDRAW_PATH}
# The state a case ends in once its path is done and its letters are issued.
END_STATE = {"decide": "closed", "reject": "not_receivable", "withdraw": "withdrawn"}

# The oracle (written from the rulebook, not read from the code under test): the letter each
# transition calls for, and who hears of it (``workflow.notifications.TRANSITION_NOTICES``).
LETTER_OF = {
    "submit": "acknowledgement",
    "reject_not_receivable": "not_receivable",
    "withdraw": "withdrawn",
    "decide": "outcome",
}
NOTICES_OF: dict[str, list[tuple[str, str]]] = {
    "submit": [("case_submitted", "requester"), ("case_filed", "hr_specialist")],
    "reject_not_receivable": [("case_not_receivable", "requester")],
    # Withdrawn while the reviewer was invited: the reviewer hears of it too.
    "withdraw": [("case_withdrawn", "requester"), ("review_cancelled", "reviewer")],
    "invite_reviewer": [("reviewer_invited", "reviewer")],
    "submit_recommendation": [("recommendation_submitted", "hr_specialist")],
    "forward_for_endorsement": [("endorsement_requested", "endorser")],
    "endorse": [("decision_requested", "decision_maker")],
    "decide": [("case_decided", "requester")],
}


def path_of(number: int) -> str:
    """The path of the ``number``-th case: a tenth rejected, a tenth withdrawn, the rest decided."""
    return {7: "reject", 9: "withdraw"}.get(number % 10, "decide")


# --- what is recorded -------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One HTTP request: when it ran (wall clock, s), what it was, and its status (None: no answer)."""

    started: float
    ended: float
    what: str
    status: int | None
    error: str = ""
    # An answer the protocol expects and the client retries: 409 "in progress" of an Idempotency-Key.
    expected: bool = False


@dataclass
class Window:
    """One fault, from the moment it was injected to healthy again (``recovered`` None: never)."""

    kind: str  # "restart", "kill-pool" or "kill-main"
    started: float
    recovered: float | None = None
    detail: str = ""

    @property
    def seconds(self) -> float | None:
        return None if self.recovered is None else self.recovered - self.started

    def overlaps(self, sample: Sample) -> bool:
        end = self.recovered if self.recovered is not None else float("inf")
        return sample.started <= end and sample.ended >= self.started


@dataclass
class CaseRecord:
    """A case a client meant to create and move, and which of its steps were answered 2xx."""

    marker: str
    path: str
    requester_email: str = ""
    case_id: int | None = None
    done: list[str] = field(default_factory=list)
    abandoned: str = ""


@dataclass
class Classified:
    """The recorded responses, sorted: successes, expected refusals, and failures in and out of windows."""

    total: int = 0
    ok: int = 0
    expected_4xx: int = 0
    in_window: Counter[str] = field(default_factory=Counter)
    outside: Counter[str] = field(default_factory=Counter)


def status_label(sample: Sample) -> str:
    return str(sample.status) if sample.status is not None else "no answer"


def classify(samples: Iterable[Sample], windows: list[Window]) -> Classified:
    """Sort responses: 2xx/3xx, expected 4xx, and every other answer (or none) by whether a window held it."""
    result = Classified()
    for sample in samples:
        result.total += 1
        if sample.status is not None and sample.status < 400:
            result.ok += 1
        elif sample.expected and sample.status is not None and sample.status < 500:
            result.expected_4xx += 1
        elif any(window.overlaps(sample) for window in windows):
            result.in_window[status_label(sample)] += 1
        else:
            result.outside[status_label(sample)] += 1
    return result


def errors_acceptable(classified: Classified) -> bool:
    """The issue's rule: errors only inside the outage windows, and only as 503."""
    return not classified.outside and set(classified.in_window) <= {"503"}


def recovery_figures(windows: list[Window]) -> tuple[float | None, float | None, int]:
    """Median and maximum recovery (s) of the recovered windows, and how many never recovered."""
    seconds = [w.seconds for w in windows if w.seconds is not None]
    missing = sum(1 for w in windows if w.seconds is None)
    if not seconds:
        return None, None, missing
    return statistics.median(seconds), max(seconds), missing


def recoveries_acceptable(windows: list[Window], limit: float = RECOVERY_LIMIT_SECONDS) -> bool:
    _median, longest, missing = recovery_figures(windows)
    return missing == 0 and (longest is None or longest <= limit)


def expected_letters(record: CaseRecord) -> Counter[str]:
    return Counter(LETTER_OF[name] for name in record.done if name in LETTER_OF)


def expected_notices(record: CaseRecord, emails: dict[str, list[str]]) -> Counter[tuple[str, str]]:
    """(kind, e-mail) -> how many, for the transitions of ``record`` that were answered 2xx."""
    expected: Counter[tuple[str, str]] = Counter()
    for name in record.done:
        for kind, role in NOTICES_OF.get(name, []):
            for email in [record.requester_email] if role == "requester" else emails[role]:
                expected[(kind, email.lower())] += 1
    return expected


MESSAGE_ID = re.compile(r"^Message-ID: *(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


def message_ids(mail_dir: Path) -> Counter[str]:
    """How often each Message-ID occurs in the files of Django's file-based e-mail backend."""
    found: Counter[str] = Counter()
    if not mail_dir.is_dir():
        return found
    for path in sorted(mail_dir.iterdir()):
        found.update(MESSAGE_ID.findall(path.read_text(errors="replace")))
    return found


def message_times(mail_dir: Path, wanted: set[str]) -> dict[str, list[float]]:
    """When the files holding each of the ``wanted`` Message-IDs were written (their mtimes)."""
    times: dict[str, list[float]] = {}
    if not wanted or not mail_dir.is_dir():
        return times
    for path in mail_dir.iterdir():
        for mid in MESSAGE_ID.findall(path.read_text(errors="replace")):
            if mid in wanted:
                times.setdefault(mid, []).append(path.stat().st_mtime)
    return {mid: sorted(found) for mid, found in times.items()}


@dataclass
class Verdict:
    name: str
    passed: bool
    value: str
    details: list[str] = field(default_factory=list)


# --- the dedicated PostgreSQL cluster and Redis --------------------------------------------


@dataclass
class Cluster:
    version: str
    name: str
    port: int
    started_here: bool

    def ctl(self, action: str, timeout: float = 120) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"


def _clusters() -> list[dict[str, str]]:
    finished = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True)
    rows = []
    for line in finished.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            rows.append({"version": parts[0], "name": parts[1], "port": parts[2], "status": parts[3]})
    return rows


def _installed_version() -> str:
    versions = [p.name for p in Path("/usr/lib/postgresql").glob("*") if (p / "bin" / "postgres").exists()]
    if not versions:
        raise RuntimeError("no PostgreSQL server is installed (Debian: apt-get install postgresql)")
    return max(versions, key=lambda v: [int(x) for x in v.split(".") if x.isdigit()])


def cluster_ready(port: int) -> Cluster:
    """The ``verifyfaults`` cluster, created if missing and started if down."""
    if shutil.which("pg_ctlcluster") is None:
        raise RuntimeError("pg_ctlcluster not found (the Debian postgresql-common package is needed)")
    found = next((row for row in _clusters() if row["name"] == CLUSTER), None)
    if found is None:
        version = _installed_version()
        subprocess.run(
            ["pg_createcluster", version, CLUSTER, "--port", str(port), "--", "--auth=trust"],
            check=True,
            capture_output=True,
        )
        found = {"version": version, "name": CLUSTER, "port": str(port), "status": "down"}
    cluster = Cluster(found["version"], CLUSTER, int(found["port"]), started_here=False)
    if found["status"] != "online":
        cluster.ctl("start")
        cluster.started_here = True
    _wait_postgres(cluster.url, 60)
    return cluster


def _wait_postgres(url: str, seconds: float) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(f"{url}/postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the production profile's processes ---------------------------------------------------


class Processes:
    """Every process this check starts, each in its own session (so that its children die with it)."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()
        self.worker_starts = 0

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.directory / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        with self.lock:
            self.running[name] = process

    def start_worker(self) -> None:
        self.worker_starts += 1
        self.start(
            "worker",
            [
                str(BIN / "celery"),
                "--app",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(CELERY_CONCURRENCY),
                "--without-mingle",
                "--without-gossip",
            ],
        )

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 20) -> None:
        with self.lock:
            process = self.running.pop(name, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Whatever of its session is left (e.g. pool processes of a killed worker).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def pid(self, name: str) -> int | None:
        with self.lock:
            process = self.running.get(name)
        return process.pid if process is not None and process.poll() is None else None

    def exited(self, name: str) -> bool:
        with self.lock:
            process = self.running.get(name)
        return process is not None and process.poll() is not None

    def stop_all(self) -> None:
        for name in ("web", "beat", "worker", "redis"):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (a killed child stays listed, as a zombie, until reaped)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split() if _state(int(part)) not in ("Z", "X", "")]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def busiest(pids: list[int], seconds: float = 0.2) -> tuple[int, bool]:
    """The pool process that used most CPU over ``seconds`` (the one rendering), and whether any did."""
    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(seconds)
    used = {pid: cpu_ticks(pid) - before[pid] for pid in pids}
    pid = max(pids, key=lambda p: used[p])
    return pid, used[pid] > 0


def _environment(
    directory: Path, db_url: str, redis_port: int, port: int, options: argparse.Namespace
) -> dict[str, str]:
    """``scripts/prod.sh``'s variables, with every file, database and Redis of this check's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "CACHE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=db_url,
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
        CACHE_URL=f"redis://127.0.0.1:{redis_port}/1",
        MEDIA_ROOT=str(directory / "media"),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        AUDIT_LOG_FILE=str(directory / "audit.jsonl"),
        CELERY_BEAT_SCHEDULE_FILENAME=str(directory / "celerybeat-schedule"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(GUNICORN_WORKERS),
        SITE_URL=f"http://127.0.0.1:{port}",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(directory / "mail"),
        # A task held by a worker that died comes back after this long (swept every 10 s).
        CELERY_VISIBILITY_TIMEOUT=str(options.visibility_timeout),
        CELERY_UNACKED_RESTORE_INTERVAL="10",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    finished = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if finished.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{finished.stdout}\n{finished.stderr}")
    return finished.stdout


def _subprocess_json(env: dict[str, str], *args: str, stdin: str | None = None) -> dict[str, Any]:
    return live.module_json("verify.faults", env, *args, marker=MARKER, stdin=stdin)


# --- HTTP clients -----------------------------------------------------------------------


class Recorder:
    """Every response of the load, thread-safe."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.replays = 0
        self.retries = 0
        self.lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Client:
    """One HTTP session that retries a call on 503, on no answer and on 'in progress', with the same key."""

    def __init__(self, base_url: str, recorder: Recorder, stop: threading.Event) -> None:
        import requests

        self.base_url = base_url
        self.recorder = recorder
        self.stop = stop
        self.session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
        what: str,
        cookie: str | None = None,
        retry: bool = True,
    ) -> tuple[int | None, Any]:
        import requests

        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if cookie:
            headers["Cookie"] = cookie
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        give_up = time.monotonic() + CALL_GIVE_UP_SECONDS
        pause = 0.2
        while True:
            started = time.time()
            try:
                response = self.session.request(
                    method, self.base_url + path, json=body, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
                )
                status, error = response.status_code, ""
            except requests.RequestException as exc:
                response, status, error = None, None, type(exc).__name__
            ended = time.time()
            payload: Any = None
            if response is not None:
                with contextlib.suppress(ValueError):
                    payload = response.json()
                if response.headers.get("Idempotent-Replayed") == "true":
                    with self.recorder.lock:
                        self.recorder.replays += 1
            in_progress = (
                status == 409 and isinstance(payload, dict) and "in_progress" in str(payload.get("code"))
            )
            self.recorder.add(Sample(started, ended, what, status, error, expected=in_progress))
            if not retry or not (status is None or status == 503 or in_progress):
                return status, payload
            if time.monotonic() > give_up or self.stop.is_set():
                return status, payload
            with self.recorder.lock:
                self.recorder.retries += 1
            if status is None:
                # A new connection for the retry (the old one may be half-closed).
                self.session.close()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def mover(
    client: Client,
    tokens: dict[str, str],
    setup: dict[str, Any],
    numbers: Iterable[int],
    records: list[CaseRecord],
    run_id: str,
    keep_going: Callable[[], bool],
) -> None:
    """Create cases and move each along its path until told to stop (a case under way is finished)."""
    intake = {
        "appraisal_cycle": 2026,
        "overall_rating": "partially_meets",
        "appraisal_signed_on": setup["signed_on"],
        "first_reporting_officer_email": "fro@example.org",
        "second_reporting_officer_email": "sro@example.org",
        "office": "Geneva Office",
        "region": "Europe",
        "contract_type": "fixed_term",
        "appointment_months": 24,
    }
    for number in numbers:
        if not keep_going() or number >= len(setup["requesters"]):
            return
        requester = setup["requesters"][number]
        record = CaseRecord(
            marker=f"{run_id}-{number:05d}", path=path_of(number), requester_email=requester["email"]
        )
        records.append(record)
        body = {
            **intake,
            "language": ["en", "fr", "es"][number % 3],
            "statement": f"{record.marker} {STATEMENT}",
        }
        status, case = client.call(
            "POST", "/api/v1/cases/", token=requester["token"], body=body, what="create"
        )
        if status != 201:
            record.abandoned = f"create answered {status}: {str(case)[:200]}"
            continue
        record.case_id = case["id"]
        version = case["version"]
        for name, role, data in PATHS[record.path]:
            token = requester["token"] if role == "requester" else tokens[role]
            data = {k: setup["reviewer_id"] if v == "<reviewer>" else v for k, v in data.items()}
            status, answer = client.call(
                "POST",
                f"/api/v1/cases/{record.case_id}/transitions/{name}/",
                token=token,
                body={"version": version, **data},
                what=name,
            )
            if status != 200:
                record.abandoned = f"{name} answered {status}: {str(answer)[:200]}"
                break
            record.done.append(name)
            version = answer["version"]


def reader(
    client: Client,
    tokens: dict[str, str],
    setup: dict[str, Any],
    records: list[CaseRecord],
    keep_going: Callable[[], bool],
) -> None:
    """HR reads: the API's case list and a case, the queue page and a case page."""
    cookie = setup["hr_cookie"]
    for turn in itertools.count():
        if not keep_going():
            return
        # Cases HR may see: submitted ones (a draft is its requester's alone).
        known = [r.case_id for r in records[-20:] if r.case_id is not None and r.done] or [setup["demo_case"]]
        case_id = known[turn % len(known)]
        path, what, token, page_cookie = [
            ("/api/v1/cases/?page_size=25", "read api list", tokens["hr"], None),
            (f"/api/v1/cases/{case_id}/", "read api case", tokens["hr"], None),
            ("/queue/", "read queue page", None, cookie),
            (f"/cases/{case_id}/", "read case page", None, cookie),
        ][turn % 4]
        client.call("GET", path, token=token, cookie=page_cookie, what=f"{what} {path}", retry=False)
        time.sleep(0.05)


# --- faults -----------------------------------------------------------------------------


class Faults:
    """Injects the faults one at a time on a schedule and records each window."""

    def __init__(
        self,
        *,
        cluster: Cluster,
        processes: Processes,
        base_url: str,
        hr_token: str,
        broker_url: str,
    ) -> None:
        import requests
        from celery import Celery

        self.cluster = cluster
        self.processes = processes
        self.base_url = base_url
        self.hr_token = hr_token
        self.windows: list[Window] = []
        self.session = requests.Session()
        self.control = Celery("verify-faults-probe", broker=broker_url)
        self.busy_kills = 0
        self.lock = threading.Lock()

    # -- health probes

    def web_healthy(self) -> bool:
        """``/healthz`` 200 and an API request answered 200."""
        import requests

        try:
            health = self.session.get(self.base_url + "/healthz", timeout=5)
            if health.status_code != 200:
                return False
            answer = self.session.get(
                self.base_url + "/api/v1/cases/?page_size=1",
                headers={"Authorization": f"Token {self.hr_token}"},
                timeout=10,
            )
            return answer.status_code == 200
        except requests.RequestException:
            self.session.close()
            return False

    def worker_healthy(self, killed: int | None = None) -> bool:
        """The worker's pool is complete (without ``killed``) and its main process answers a control ping."""
        pid = self.processes.pid("worker")
        if pid is None or pid == killed:
            return False
        pool = [child for child in children(pid) if child != killed]
        if len(pool) < CELERY_CONCURRENCY:
            return False
        try:
            # The first reply ends the wait (there is one worker).
            replies = self.control.control.ping(timeout=2.0, limit=1)
        except Exception:  # noqa: BLE001 - an unreachable broker is "not yet"
            return False
        return bool(replies)

    def wait(self, window: Window, healthy: Callable[[], bool]) -> None:
        deadline = time.monotonic() + RECOVERY_GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            if healthy():
                window.recovered = time.time()
                return
            time.sleep(0.1)

    # -- the faults

    def restart(self) -> Window:
        window = Window("restart", time.time())
        with self.lock:
            self.windows.append(window)
        try:
            self.cluster.ctl("restart")
        except subprocess.CalledProcessError as exc:
            window.detail = f"pg_ctlcluster restart failed: {exc.stderr!r}"[:300]
        self.wait(window, self.web_healthy)
        return window

    def kill(self, main: bool) -> Window:
        self.wait_for_worker_pool()
        pid = self.processes.pid("worker")
        pool = children(pid) if pid else []
        if main or not pool:
            target, kind, busy = pid, "kill-main", True
        else:
            target, busy = busiest(pool)
            kind = "kill-pool"
        window = Window(kind, time.time(), detail=f"pid {target}" + (", busy" if busy else ", idle"))
        with self.lock:
            self.windows.append(window)
            self.busy_kills += busy and kind == "kill-pool"
        if target is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, signal.SIGKILL)
        self.wait(window, lambda: self.worker_healthy(killed=target))
        return window

    def wait_for_worker_pool(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid = self.processes.pid("worker")
            if pid is not None and len(children(pid)) >= CELERY_CONCURRENCY:
                return
            time.sleep(0.1)


def supervise(processes: Processes, stop: threading.Event) -> None:
    """A supervisor: when the worker's main process dies, kill what is left of it and start a new one."""
    while not stop.is_set():
        if processes.exited("worker"):
            processes.stop("worker", signal.SIGKILL, wait=5)
            processes.start_worker()
        time.sleep(0.1)


def schedule(
    restarts: int, kills: int, seconds: float, main_every: int = MAIN_KILL_EVERY
) -> list[tuple[float, str]]:
    """When each fault is due (seconds after the load starts): each kind spread evenly, interleaved."""
    plan = [(seconds * (i + 0.5) / restarts, "restart") for i in range(restarts)]
    plan += [
        (
            seconds * (i + 0.25) / kills,
            "kill-main" if main_every and (i + 1) % main_every == 0 else "kill-pool",
        )
        for i in range(kills)
    ]
    return sorted(plan)


# --- the run ----------------------------------------------------------------------------


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m verify faults", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--restarts", type=int, default=RESTARTS, help=f"PostgreSQL restarts (default {RESTARTS})"
    )
    parser.add_argument("--kills", type=int, default=KILLS, help=f"worker SIGKILLs (default {KILLS})")
    parser.add_argument(
        "--seconds",
        type=int,
        default=SECONDS,
        help=f"seconds over which the faults are spread (default {SECONDS})",
    )
    parser.add_argument(
        "--clients", type=int, default=CLIENTS, help=f"threads moving cases (default {CLIENTS})"
    )
    parser.add_argument(
        "--drain",
        type=int,
        default=DRAIN_SECONDS,
        help=f"most seconds to wait for the queue (default {DRAIN_SECONDS})",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=VISIBILITY_TIMEOUT,
        help=f"CELERY_VISIBILITY_TIMEOUT of the profile (default {VISIBILITY_TIMEOUT}; the settings': 3600)",
    )
    parser.add_argument(
        "--main-every",
        type=int,
        default=MAIN_KILL_EVERY,
        help=f"every n-th kill is of the worker's main process (default {MAIN_KILL_EVERY}; 0: never)",
    )
    parser.add_argument("--port", type=int, default=CLUSTER_PORT, help=f"port of a new {CLUSTER} cluster")
    parser.add_argument(
        "--keep-logs",
        type=Path,
        default=None,
        help="copy the processes' logs and the mail files here at the end",
    )
    options = parser.parse_args(argv)
    if min(options.restarts, options.kills) < 0 or min(options.seconds, options.clients, options.drain) < 1:
        parser.error("faults cannot be negative; seconds, clients and drain must be at least 1")
    return options


def _say(text: str = "") -> None:
    print(text, flush=True)


def run(argv: list[str]) -> bool:
    """Inject the faults under load, check every case, letter and notification; print the figures."""
    options = _arguments(argv)
    began = time.monotonic()
    _say("== fault injection under load (production profile) ==")
    directory = Path(tempfile.mkdtemp(prefix="rebuttal-faults-"))
    cluster: Cluster | None = None
    processes: Processes | None = None
    db_created = False
    stop = threading.Event()
    try:
        cluster = cluster_ready(options.port)
        _say(
            f"database:  PostgreSQL {cluster.version} cluster {cluster.name} on 127.0.0.1:{cluster.port} "
            f"({'started by this check' if cluster.started_here else 'already running'}), "
            f"throw-away database {DB_NAME}"
        )
        _admin(cluster.url, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        _admin(cluster.url, f"CREATE DATABASE {DB_NAME}")
        db_created = True
        redis_port, web_port = _free_port(), _free_port()
        env = _environment(directory, f"{cluster.url}/{DB_NAME}", redis_port, web_port, options)
        processes = Processes(directory, env)
        processes.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
        )
        _say("setup:     migrate, seed_demo, one requester per case to come, a reviewer, tokens ...")
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo")
        setup = _subprocess_json(env, "--populate", str(_most_cases(options)))
        base_url = f"http://127.0.0.1:{web_port}"
        processes.start(
            "web",
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--config",
                "config/gunicorn.conf.py",
                "--no-control-socket",
            ],
        )
        processes.start_worker()
        processes.start(
            "beat",
            [
                str(BIN / "celery"),
                "--app",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                env["CELERY_BEAT_SCHEDULE_FILENAME"],
            ],
        )
        tokens = setup["tokens"]
        recorder = Recorder()
        faults = Faults(
            cluster=cluster,
            processes=processes,
            base_url=base_url,
            hr_token=tokens["hr"],
            broker_url=env["CELERY_BROKER_URL"],
        )
        _wait_until(lambda: faults.web_healthy() and faults.worker_healthy(), 90, "the profile to start")
        _say(
            f"profile:   gunicorn ({GUNICORN_WORKERS} sync workers) on {base_url}, Celery worker (prefork, "
            f"{CELERY_CONCURRENCY} processes) and beat on Redis 127.0.0.1:{redis_port}, DEBUG=0, file e-mail;"
        )
        _say(
            f"           CELERY_VISIBILITY_TIMEOUT={options.visibility_timeout} s (settings default 3600), "
            f"{os.cpu_count()} CPUs shared by everything"
        )
        plan = schedule(options.restarts, options.kills, options.seconds, options.main_every)
        _say(
            f"load:      {options.clients} clients moving cases (idempotency keys, retries), 1 reader; "
            f"{options.restarts} restarts and {options.kills} kills over {options.seconds} s"
        )
        records: list[CaseRecord] = []
        faults_done = threading.Event()
        load_started = time.monotonic()

        def keep_going() -> bool:
            return not stop.is_set() and not (
                faults_done.is_set() and time.monotonic() - load_started >= options.seconds
            )

        numbers = itertools.count()
        number_lock = threading.Lock()

        def next_numbers() -> Iterable[int]:
            while True:
                with number_lock:
                    yield next(numbers)

        run_id = f"FAULTRUN-{uuid.uuid4().hex[:8]}"
        threads = [
            threading.Thread(
                target=mover,
                args=(
                    Client(base_url, recorder, stop),
                    tokens,
                    setup,
                    next_numbers(),
                    records,
                    run_id,
                    keep_going,
                ),
                daemon=True,
            )
            for _ in range(options.clients)
        ]
        threads.append(
            threading.Thread(
                target=reader,
                args=(Client(base_url, recorder, stop), tokens, setup, records, keep_going),
                daemon=True,
            )
        )
        supervisor = threading.Thread(target=supervise, args=(processes, stop), daemon=True)
        supervisor.start()
        for thread in threads:
            thread.start()
        for due, kind in plan:
            wait = load_started + due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            window = faults.restart() if kind == "restart" else faults.kill(main=kind == "kill-main")
            took = f"{window.seconds:.1f} s" if window.seconds is not None else "not recovered"
            _say(f"  t={time.monotonic() - load_started:6.1f} s  {window.kind:<10} healthy again in {took}")
        faults_done.set()
        for thread in threads:
            thread.join(timeout=CALL_GIVE_UP_SECONDS * 3)
        load_seconds = time.monotonic() - load_started
        _say(f"load done after {load_seconds:.0f} s: {len(records)} cases started; draining the queue ...")
        drained_in = _drain(env["DATABASE_URL"], run_id, options.drain)
        _say(f"broker after the drain: {_broker_state(redis_port)}")
        rescue: dict[str, Any] = {"letter requests": [], "notifications": []}
        if drained_in is None:
            # What is still pending lost its task (e.g. a message the worker's main process had taken
            # from Redis and not yet recorded as unacknowledged when it was killed). In production the
            # scheduler queues such rows again once they are RETRY_AFTER old (10 min, beat every 5):
            # run that pass now, as it would run then, and drain again.
            rescue = _subprocess_json(env, "--rescue", run_id)
            _say(
                f"scheduler pass (as {rescue['retry_after_seconds']:.0f} s later): queued again "
                f"{len(rescue['letter requests'])} letter request(s) and {len(rescue['notifications'])} "
                "notification(s); draining ..."
            )
            _drain(env["DATABASE_URL"], run_id, RESCUE_DRAIN_SECONDS)
        stop.set()
        supervisor.join(timeout=10)
        facts = _subprocess_json(env, "--inspect", run_id)
        facts["rescued"] = rescue
        mail = message_ids(directory / "mail")
        ok = report(
            records=records,
            recorder=recorder,
            windows=faults.windows,
            facts=facts,
            mail=mail,
            setup=setup,
            busy_kills=faults.busy_kills,
            worker_starts=processes.worker_starts,
            drained_in=drained_in,
            drain_limit=options.drain,
            load_seconds=load_seconds,
            planned=(options.restarts, options.kills),
        )
        twice = {mid for mid, n in mail.items() if n > 1}
        for mid, written in message_times(directory / "mail", twice).items():
            row = facts["all_notifications"].get(mid, {})
            near = [
                f"{w.kind} at {_clock(w.started)}" for w in faults.windows if abs(w.started - written[0]) < 15
            ]
            _say(
                f"  written {len(written)} times: {mid} ({row.get('kind')}, case {row.get('case')}, "
                f"{row.get('attempts')} attempt(s)) at {', '.join(_clock(t) for t in written)}; "
                f"faults within 15 s: {', '.join(near) or 'none'}"
            )
        if not ok:
            _say("logs (errors and tracebacks, last lines of each):")
            for name in ("web", "worker", "beat"):
                for line in _log_problems(processes.log(name)):
                    _say(f"  [{name}] {line}")
        _say(f"fault injection took {time.monotonic() - began:.0f} s")
        return ok
    finally:
        stop.set()
        if processes is not None:
            processes.stop_all()
        if cluster is not None:
            with contextlib.suppress(Exception):
                _wait_postgres(cluster.url, 30)
                if db_created:
                    _admin(cluster.url, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            if cluster.started_here:
                with contextlib.suppress(Exception):
                    cluster.ctl("stop")
        if options.keep_logs is not None:
            options.keep_logs.mkdir(parents=True, exist_ok=True)
            for path in directory.glob("*.log"):
                shutil.copy(path, options.keep_logs / path.name)
            if (directory / "mail").is_dir():
                shutil.copytree(directory / "mail", options.keep_logs / "mail", dirs_exist_ok=True)
        shutil.rmtree(directory, ignore_errors=True)


def _most_cases(options: argparse.Namespace) -> int:
    """Requesters to create: more than the clients can file in the run (about 1 case/s each at best)."""
    return 200 + options.clients * (options.seconds + 2 * options.restarts * 10) * 2


def _wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out after {seconds} s waiting for {what}")


def _broker_state(port: int) -> str:
    """Messages still queued, held unacknowledged, or waiting for their time (retries) in the broker."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, db=0, socket_timeout=5)
    try:
        queued = client.llen("celery")
        unacked = client.hlen("unacked")
        oldest = client.zrange("unacked_index", 0, 0, withscores=True)
    except redis.RedisError as exc:
        return f"unreadable ({exc})"
    finally:
        client.close()
    age = f", the oldest held {time.time() - oldest[0][1]:.0f} s" if oldest else ""
    return f"{queued} queued, {unacked} held unacknowledged{age}"


def _drain(db_url: str, run_id: str, limit: float) -> float | None:
    """Wait until the run's letters and every notification are done; seconds taken, None if not in time."""
    import psycopg

    started = time.monotonic()
    query = """
        SELECT
          (SELECT count(*) FROM reports_letterrequest r JOIN rebuttal_rebuttalcase c ON c.id = r.case_id
            WHERE r.status = 'pending' AND c.statement LIKE %(marker)s),
          (SELECT count(*) FROM workflow_notification n JOIN rebuttal_rebuttalcase c ON c.id = n.case_id
            WHERE n.status IN ('pending', 'sending') AND c.statement LIKE %(marker)s),
          (SELECT count(*) FROM rebuttal_rebuttalcase c
            WHERE c.status = 'decided' AND c.statement LIKE %(marker)s)
    """
    while time.monotonic() - started < limit:
        try:
            with psycopg.connect(db_url, connect_timeout=5) as conn:
                row = conn.execute(query, {"marker": f"{run_id}-%"}).fetchone()
            if row is not None and not any(row):
                return time.monotonic() - started
        except psycopg.Error:
            pass
        time.sleep(1)
    return None


def report(
    *,
    records: list[CaseRecord],
    recorder: Recorder,
    windows: list[Window],
    facts: dict[str, Any],
    mail: Counter[str],
    setup: dict[str, Any],
    busy_kills: int,
    worker_starts: int,
    drained_in: float | None,
    drain_limit: float,
    load_seconds: float,
    planned: tuple[int, int],
) -> bool:
    """Print the figures and the verdicts; whether every verdict passed."""
    verdicts = verdicts_of(
        records=records,
        recorder=recorder,
        windows=windows,
        facts=facts,
        mail=mail,
        emails=setup["emails"],
        planned=planned,
    )
    restarts = [w for w in windows if w.kind == "restart"]
    kills = [w for w in windows if w.kind.startswith("kill")]
    classified = classify(recorder.samples, windows)
    by_kind = Counter(s.what.split()[0] for s in recorder.samples)
    paths = Counter(r.path for r in records)
    _say()
    _say(f"{'figure':<46}{'value':>14}")
    rows: list[tuple[str, str]] = [
        ("PostgreSQL restarts", f"{len(restarts)}"),
        (
            "worker SIGKILLs (pool / main)",
            f"{sum(w.kind == 'kill-pool' for w in kills)} / {sum(w.kind == 'kill-main' for w in kills)}",
        ),
        ("  pool kills that hit a busy process", f"{busy_kills}"),
        ("  worker (re)starts by the supervisor", f"{worker_starts - 1}"),
        ("load seconds (faults included)", f"{load_seconds:.0f}"),
        ("requests sent (attempts)", f"{classified.total:,}"),
        ("  of which reads", f"{by_kind['read']:,}"),
        ("  answered 2xx/3xx", f"{classified.ok:,}"),
        ("  answered 409 'in progress' (retried)", f"{classified.expected_4xx:,}"),
        ("  retried (503, no answer, in progress)", f"{recorder.retries:,}"),
        ("  answered from the idempotency record", f"{recorder.replays:,}"),
        ("errors inside outage windows", _counts(classified.in_window)),
        ("errors outside outage windows", _counts(classified.outside)),
        (
            "cases started (decide / reject / withdraw)",
            f"{len(records)} ({paths['decide']} / {paths['reject']} / {paths['withdraw']})",
        ),
        (
            "cases moved to the end of their path",
            f"{sum(1 for r in records if len(r.done) == len(PATHS[r.path]))}",
        ),
        ("transitions answered 200", f"{sum(len(r.done) for r in records):,}"),
        ("letters of the run's cases", f"{facts['letter_total']:,}"),
        ("notifications of the run's cases", f"{facts['notification_total']:,}"),
        ("e-mail messages written (all, demo's included)", f"{sum(mail.values()):,}"),
        (
            "queue drained after the load in",
            f"{drained_in:.0f} s" if drained_in is not None else f"not within {drain_limit} s",
        ),
    ]
    for kind, group in (("restart", restarts), ("kill", kills)):
        median, longest, missing = recovery_figures(group)
        rows.append(
            (
                f"recovery after {kind}: median / max (s)",
                "-"
                if median is None
                else f"{median:.1f} / {longest:.1f}" + (f", {missing} never" if missing else ""),
            )
        )
    letter_lag = facts.get("letter_lag_seconds") or []
    if letter_lag:
        rows.append(
            (
                "letter issued after its request: median / max (s)",
                f"{statistics.median(letter_lag):.1f} / {max(letter_lag):.1f}",
            )
        )
    for name, value in rows:
        _say(f"{name:<46}{value:>14}" if len(value) <= 14 else f"{name:<46}{value}")
    errors_in = [s for s in recorder.samples if s.status is None]
    if errors_in:
        _say(f"(no answer: {_counts(Counter(s.error for s in errors_in))}; each retried with the same key)")
    _say()
    for verdict in verdicts:
        _say(f"{'PASS' if verdict.passed else 'FAIL'}  {verdict.name:<62}{verdict.value}")
    for verdict in verdicts:
        for line in verdict.details[:10]:
            _say(f"  {line}")
    for line in facts.get("problems", [])[:30]:
        _say(f"  problem: {line}")
    outside = [
        s
        for s in recorder.samples
        if s.status is not None
        and s.status >= 400
        and not s.expected
        and not any(w.overlaps(s) for w in windows)
    ]
    for sample in outside[:10]:
        _say(f"  outside a window: {sample.what} answered {status_label(sample)} at {_clock(sample.started)}")
    abandoned = [r for r in records if r.abandoned]
    for record in abandoned[:10]:
        _say(f"  abandoned {record.marker} ({record.path}): {record.abandoned}")
    return all(v.passed for v in verdicts)


def _notice_detail(row: dict[str, Any], windows: list[Window]) -> str:
    created = row.get("created_at")
    if created is None:
        return "not in the database"
    near = [f"{w.kind} at {_clock(w.started)}" for w in windows if abs(w.started - created) < 15]
    return (
        f"notification {row['id']} created {_clock(created)}, {row['attempts']} attempt(s) "
        f"{row['last_error']!r}; faults within 15 s: {', '.join(near) or 'none'}"
    )


def _clock(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} x {label}" for label, n in sorted(counter.items())) or "0"


def verdicts_of(
    *,
    records: list[CaseRecord],
    recorder: Recorder,
    windows: list[Window],
    facts: dict[str, Any],
    mail: Counter[str],
    emails: dict[str, list[str]],
    planned: tuple[int, int],
) -> list[Verdict]:
    """The issue's conditions, each checked against the database and the mail files."""
    cases = facts["cases"]  # marker -> list of {id, status}
    letters = facts["letters"]  # case id -> {kind: count}
    notices = facts["notifications"]  # case id -> [[kind, email, status, message_id], ...]
    lost_or_twice = [r.marker for r in records if len(cases.get(r.marker, [])) != 1]
    not_at_end = [
        r.marker
        for r in records
        if len(cases.get(r.marker, [])) == 1
        and (r.abandoned or cases[r.marker][0]["status"] != END_STATE[r.path])
    ]
    letter_wrong = []
    notice_wrong = []
    unsent = []
    for record in records:
        found = cases.get(record.marker, [])
        if len(found) != 1:
            continue
        case_id = str(found[0]["id"])
        if Counter(letters.get(case_id, {})) != expected_letters(record):
            letter_wrong.append(f"{record.marker}: {dict(letters.get(case_id, {}))} for {record.done}")
        rows = notices.get(case_id, [])
        found_notices = Counter((kind, email.lower()) for kind, email, _status, _mid in rows)
        wanted = expected_notices(record, emails)
        if found_notices != wanted:
            notice_wrong.append(
                f"{record.marker}: missing {dict(wanted - found_notices)}, "
                f"extra {dict(found_notices - wanted)}"
            )
        unsent += [
            f"{record.marker}: {kind} to {email}, {status}, written {mail[mid]} time(s); "
            + _notice_detail(facts["all_notifications"].get(mid, {}), windows)
            for kind, email, status, mid in rows
            if status != "sent" or mail[mid] != 1
        ]
    twice_in_mail = [mid for mid, n in mail.items() if n > 1]
    rescue = facts.get("rescued", {})
    rescued = [
        f"{what[:-1]} {item['id']} written {_clock(item['at'])}; faults within 15 s: "
        + (
            ", ".join(f"{w.kind} at {_clock(w.started)}" for w in windows if abs(item["at"] - w.started) < 15)
            or "none"
        )
        for what in ("letter requests", "notifications")
        for item in rescue.get(what, [])
        if item["mine"]
    ]
    classified = classify(recorder.samples, windows)
    restarts = [w for w in windows if w.kind == "restart"]
    kills = [w for w in windows if w.kind.startswith("kill")]
    _med, longest, missing = recovery_figures(windows)
    return [
        Verdict(
            "every case meant exists exactly once",
            not lost_or_twice and bool(records),
            f"{len(records) - len(lost_or_twice)}/{len(records)}",
            [f"{marker}: {len(cases.get(marker, []))} case(s) in the database" for marker in lost_or_twice],
        ),
        Verdict(
            "every case reached the end of its path", not not_at_end, f"{len(not_at_end)} not", not_at_end
        ),
        Verdict(
            "each case has exactly its letters (none missing or twice)",
            not letter_wrong,
            f"{len(letter_wrong)} wrong",
            letter_wrong,
        ),
        Verdict(
            "every letter's PDF matches its SHA-256",
            facts["letters_altered"] == 0,
            f"{facts['letters_checked']} checked, {facts['letters_altered']} altered",
        ),
        Verdict(
            "notifications exactly once per event",
            not notice_wrong,
            f"{len(notice_wrong)} cases wrong",
            notice_wrong,
        ),
        Verdict(
            "each notification sent, its message written exactly once",
            not unsent,
            f"{len(unsent)} unsent or not once",
            unsent,
        ),
        Verdict(
            "no message written twice (all notifications)", not twice_in_mail, f"{len(twice_in_mail)} twice"
        ),
        Verdict(
            "audit chains intact",
            facts["chains_broken"] == 0,
            f"{facts['chains_checked']} checked, {facts['chains_broken']} broken",
        ),
        Verdict(
            "errors only inside outage windows, and only 503",
            errors_acceptable(classified),
            f"in: {_counts(classified.in_window)}; out: {_counts(classified.outside)}",
        ),
        Verdict(
            f"every fault recovered within {RECOVERY_LIMIT_SECONDS:.0f} s",
            recoveries_acceptable(windows),
            f"max {longest:.1f} s" if longest is not None else f"{missing} never",
        ),
        Verdict(
            "no letter or e-mail of the run left to the scheduler's retry",
            not rescued,
            f"{len(rescued)} left",
            [f"queued again by the scheduler's pass: {item}" for item in rescued],
        ),
        Verdict(
            "all the faults were injected",
            (len(restarts), len(kills)) == planned,
            f"{len(restarts)}/{planned[0]} restarts, {len(kills)}/{planned[1]} kills",
        ),
    ]


# Log lines the faults are expected to cause: a 503 during a restart, a pool process lost to a kill,
# a task retried after an outage.
EXPECTED_LOG = ("Service Unavailable", "WorkerLostError", "Retry in ")


def _log_problems(log: str, limit: int = 25) -> list[str]:
    keep = [
        line
        for line in log.splitlines()
        if any(word in line for word in ("ERROR", "Traceback", "CRITICAL", '"status": 500', "Error:"))
        and not any(word in line for word in EXPECTED_LOG)
    ]
    return [line if len(line) <= 400 else line[:400] + " ..." for line in keep[-limit:]]


# --- the steps run inside the profile's environment (Django set up on the throw-away database) ---


def _populate(cases: int) -> dict[str, Any]:
    """One requester per case to come, a reviewer for them all, tokens, HR's session."""
    import datetime as dt

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.test import Client as DjangoClient
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from rebuttal.models import RebuttalCase
    from rebuttal.permissions import DECISION_MAKER, ENDORSER, HR_SPECIALIST
    from reviewers import services as reviewer_services

    User = get_user_model()
    admin = User.objects.get(username="adam")
    reviewer = reviewer_services.reviewer_create(
        actor=admin,
        data={
            "name": "Fault Reviewer",
            "email": "fault.reviewer@example.org",
            "languages": ["en", "fr", "es"],
            "regions": ["Europe", "Africa", "Americas", "Asia and the Pacific"],
            "affiliation": "Independent consultant",
            "active": True,
        },
    )
    today = timezone.localdate()
    reviewer_services.contract_create(
        reviewer_id=reviewer.pk,
        actor=admin,
        data={
            "number": "RC-FAULTS-001",
            "starts_on": today - dt.timedelta(days=30),
            "ends_on": today + dt.timedelta(days=365),
            "max_concurrent_cases": 100_000,
            "fee_per_review": "1500.00",
            "currency": "USD",
            "status": "active",
        },
    )
    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(
                username=f"faultreq{i:05d}",
                email=f"faultreq{i:05d}@example.org",
                first_name="Requester",
                last_name=f"{i:05d}",
                password=unusable,
            )
            for i in range(cases)
        ],
        batch_size=1000,
    )
    requesters = list(User.objects.filter(username__startswith="faultreq").order_by("username"))
    Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in requesters], batch_size=1000)
    keys = dict(Token.objects.filter(user__in=requesters).values_list("user_id", "key"))
    people = {
        "hr": User.objects.get(username=HR_USERNAME),
        "endorser": User.objects.get(username=ENDORSER_USERNAME),
        "decision_maker": User.objects.get(username=DECISION_MAKER_USERNAME),
        "reviewer": reviewer.user,
    }
    tokens = {role: Token.objects.get_or_create(user=user)[0].key for role, user in people.items()}

    def members(group: str) -> list[str]:
        return sorted(
            User.objects.filter(groups__name=group, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )

    emails: dict[str, list[str]] = {
        "hr_specialist": members(HR_SPECIALIST),
        "endorser": members(ENDORSER),
        "decision_maker": members(DECISION_MAKER),
        "reviewer": [reviewer.user.email],
    }
    client = DjangoClient()
    client.force_login(people["hr"])
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return {
        "requesters": [{"id": u.pk, "email": u.email, "token": keys[u.pk]} for u in requesters],
        "reviewer_id": reviewer.pk,
        "tokens": tokens,
        "emails": emails,
        "hr_cookie": cookie,
        "signed_on": (today - dt.timedelta(days=1)).isoformat(),
        # A case HR may see (a draft is its requester's alone).
        "demo_case": RebuttalCase.objects.exclude(status="draft")
        .order_by("pk")
        .values_list("pk", flat=True)[0],
    }


def _rescue(run_id: str) -> dict[str, Any]:
    """The scheduler's retries of pending letters and e-mails, as its pass would make them RETRY_AFTER on.

    Returns what it queued again (ids), so that the report can say how much needed the scheduler.
    """
    import django

    django.setup()
    from django.utils import timezone

    from reports.models import LetterRequest, RequestStatus
    from workflow import letters, scheduler
    from workflow.models import Notification, NotificationStatus

    later = timezone.now() + max(scheduler.RETRY_AFTER, letters.RETRY_AFTER) + dt_seconds(1)
    pending_letters = list(
        LetterRequest.objects.filter(status=RequestStatus.PENDING).values_list(
            "pk", "case__statement", "requested_at"
        )
    )
    pending_notices = list(
        Notification.objects.filter(status=NotificationStatus.PENDING).values_list(
            "pk", "case__statement", "created_at"
        )
    )
    scheduler.retry_unsent(later)
    letters.retry_pending(later)

    def item(pk: int, statement: str | None, at: Any) -> dict[str, Any]:
        mine = bool(statement) and statement.startswith(f"{run_id}-")
        return {"id": pk, "mine": mine, "at": at.timestamp()}

    return {
        "retry_after_seconds": max(scheduler.RETRY_AFTER, letters.RETRY_AFTER).total_seconds(),
        "letter requests": [item(*row) for row in pending_letters],
        "notifications": [item(*row) for row in pending_notices],
    }


def dt_seconds(seconds: float) -> Any:
    import datetime as dt

    return dt.timedelta(seconds=seconds)


def _inspect(run_id: str) -> dict[str, Any]:
    """What the database holds for the run's cases, the letters' hashes and every audit chain."""
    import django

    django.setup()
    from ops.backup import _check_chains, _check_letters
    from rebuttal.models import RebuttalCase
    from reports.models import Letter, LetterRequest
    from workflow.models import Notification
    from workflow.tasks import message_id

    cases: dict[str, list[dict[str, Any]]] = {}
    ids = []
    for pk, statement, status in RebuttalCase.objects.filter(statement__startswith=f"{run_id}-").values_list(
        "pk", "statement", "status"
    ):
        cases.setdefault(statement.split()[0], []).append({"id": pk, "status": status})
        ids.append(pk)
    letters: dict[str, Counter[str]] = {}
    for case_id, kind in Letter.objects.filter(case_id__in=ids).values_list("case_id", "kind"):
        letters.setdefault(str(case_id), Counter())[kind] += 1
    lags = [
        (issued - requested).total_seconds()
        for issued, requested in LetterRequest.objects.filter(
            case_id__in=ids, letter__isnull=False
        ).values_list("letter__issued_at", "requested_at")
    ]
    notices: dict[str, list[list[str]]] = {}
    for pk, case_id, kind, email, status in Notification.objects.filter(case_id__in=ids).values_list(
        "pk", "case_id", "kind", "email", "status"
    ):
        notices.setdefault(str(case_id), []).append([kind, email, status, message_id(pk)])
    every_notice = {
        message_id(pk): {
            "id": pk,
            "kind": kind,
            "case": case_id,
            "attempts": attempts,
            "status": status,
            "created_at": created_at.timestamp(),
            "last_error": last_error[:200],
        }
        for pk, kind, case_id, attempts, status, created_at, last_error in Notification.objects.values_list(
            "pk", "kind", "case_id", "attempts", "status", "created_at", "last_error"
        )
    }
    letter_check = _check_letters()
    chain_check = _check_chains()
    altered = len(letter_check.problems)
    broken = len({problem.split()[0] for problem in chain_check.problems})
    pending = LetterRequest.objects.filter(case_id__in=ids).exclude(status="issued")
    problems = [
        f"letter request {r.pk} ({r.kind}, case {r.case_id}): {r.status}, {r.attempts} attempt(s), "
        f"{r.last_error[:150]}"
        for r in pending[:10]
    ]
    problems += letter_check.problems[:10] + chain_check.problems[:10]
    return {
        "cases": cases,
        "letters": letters,
        "letter_total": sum(sum(c.values()) for c in letters.values()),
        "letter_lag_seconds": lags,
        "letters_checked": int(letter_check.detail.split()[0]),
        "letters_altered": altered,
        "notifications": notices,
        "notification_total": sum(len(rows) for rows in notices.values()),
        "all_notifications": every_notice,
        "chains_checked": int(chain_check.detail.split()[0]),
        "chains_broken": broken,
        "problems": problems,
    }


if __name__ == "__main__":
    # ``python -m verify.faults --populate <cases>`` / ``--inspect <run id>``: steps run by ``run``
    # in the profile's environment.
    step, argument = sys.argv[1], sys.argv[2]
    steps = {"--populate": lambda: _populate(int(argument)), "--inspect": lambda: _inspect(argument)}
    steps["--rescue"] = lambda: _rescue(argument)
    result = steps[step]()
    print(MARKER + json.dumps(result, default=str), flush=True)
