"""A throw-away live server for the checks: its own database, the demo data, gunicorn on loopback.

The database is built the way the bench builds its own (``bench.database``), under
the name ``rebuttal_verify`` on PostgreSQL; migrations and ``seed_demo`` run as
``manage.py`` subprocesses, and the server's log (every traceback included) is kept
in a file so that a failure can be matched to its request by the request id.
Nothing here touches the developer's database, media or audit log.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import database as bench_database

VERIFY_DB_NAME = "rebuttal_verify"
ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
WORKERS = 4
START_TIMEOUT_SECONDS = 60


@dataclass
class LiveServer:
    """A running gunicorn on ``base_url`` and what to remove when it stops."""

    base_url: str
    vendor: str
    description: str
    log_path: Path
    _process: subprocess.Popen[bytes]
    _directory: str
    _drop_database: object
    _log_file: object = field(repr=False)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop gunicorn (SIGTERM, then SIGKILL), drop the database and remove the temporary folder."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log_file.close()  # type: ignore[attr-defined]
        try:
            self._drop_database()  # type: ignore[operator]
        finally:
            shutil.rmtree(self._directory, ignore_errors=True)


def module_json(
    module: str,
    env: dict[str, str],
    *args: str,
    marker: str,
    stdin: str | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh interpreter with ``env`` (this process may have Django
    set up on another database) and return the JSON it printed on the line starting with ``marker``."""
    finished = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    line = next((line for line in finished.stdout.splitlines() if line.startswith(marker)), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(
            f"{module} {' '.join(args)} failed ({finished.returncode}):\n{finished.stderr[-4000:]}"
        )
    return json.loads(line[len(marker) :])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(directory: str) -> dict[str, str]:
    """The server's environment: production-like, with every file it writes inside ``directory``."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        MEDIA_ROOT=os.path.join(directory, "media"),
        AUDIT_LOG_FILE=os.path.join(directory, "audit.jsonl"),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        CELERY_BEAT_SCHEDULE_FILENAME=os.path.join(directory, "celerybeat-schedule"),
        LOG_FORMAT="text",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    # Tasks run in the web process and each worker keeps its own cache: no broker, no Redis to share.
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def start(
    workers: int = WORKERS,
    *,
    db_name: str = VERIFY_DB_NAME,
    settings_module: str = "config.settings",
    populate: Callable[[dict[str, str]], None] | None = None,
) -> LiveServer:
    """Create the database, migrate, load the demo data, start gunicorn and wait for ``/healthz``.

    A check that needs more can name its own database (``db_name``), serve another
    settings module (``settings_module``, e.g. one with another URLconf) and add data
    before gunicorn starts: ``populate`` is called with the server's environment
    (the throw-away database's ``DATABASE_URL`` in it) after ``seed_demo``.
    """
    # bench.database builds the throw-away database (SQLite file, or a database created on the
    # DATABASE_URL server); its name is a module setting, set here so the bench's is never touched.
    bench_database.BENCH_DB_NAME = db_name
    database = bench_database.prepare()
    directory = tempfile.mkdtemp(prefix="rebuttal-verify-")
    try:
        env = _environment(directory)
        env["DJANGO_SETTINGS_MODULE"] = settings_module
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo")
        if populate is not None:
            populate(env)
        port = _free_port()
        env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers))
        log_path = Path(directory) / "server.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            # No control socket: its default path is shared by every gunicorn of this user.
            [str(GUNICORN), "config.wsgi", "--config", "config/gunicorn.conf.py", "--no-control-socket"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        database.drop()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        vendor=database.vendor,
        description=database.description,
        log_path=log_path,
        _process=process,
        _directory=directory,
        _drop_database=database.drop,
        _log_file=log_file,
    )
    try:
        _wait_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server._process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server._process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"GET /healthz did not answer 200 within {START_TIMEOUT_SECONDS} s")
