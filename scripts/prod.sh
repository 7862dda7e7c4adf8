#!/usr/bin/env bash
# `make prod`: the production profile on this machine, on 127.0.0.1 — PostgreSQL, Redis,
# gunicorn, a Celery worker and Celery beat — configured from environment variables only.
#
# Loopback has no TLS, so the processes run with HTTPS=0; the deploy check is run first
# with HTTPS=1, as a real deployment (behind a TLS-terminating load balancer) sets it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

PROD_DB="${PROD_DB:-rebuttal_prod}"
PORT="${PORT:-8000}"
STATE="var/prod"
mkdir -p "$STATE/media"
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PROD_DB'" | grep -q 1 \
    || createdb -h 127.0.0.1 -U postgres "$PROD_DB"

# A secret key made once for this machine's profile and kept out of the repository.
if [ ! -s "$STATE/secret-key" ]; then
    (umask 077 && .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(64))" > "$STATE/secret-key")
fi

export DJANGO_SETTINGS_MODULE=config.settings
export DEBUG=0
export SECRET_KEY="$(cat "$STATE/secret-key")"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PROD_DB"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export CACHE_URL="${CACHE_URL:-redis://127.0.0.1:6379/1}"
# A task held by a worker that was killed comes back after this many seconds (not Redis's hour);
# a task still running then is handed out again, which every task here is safe against.
export CELERY_VISIBILITY_TIMEOUT="${CELERY_VISIBILITY_TIMEOUT:-60}"
export STATIC_COLLECTED=1
export MEDIA_ROOT="$PWD/$STATE/media"
export LOG_FORMAT="${LOG_FORMAT:-json}"
export AUDIT_LOG_FILE="${AUDIT_LOG_FILE:-$PWD/$STATE/audit.jsonl}"
export CELERY_BEAT_SCHEDULE_FILENAME="$PWD/$STATE/celerybeat-schedule"
export GUNICORN_BIND="127.0.0.1:$PORT"
export GUNICORN_WORKERS="${GUNICORN_WORKERS:-4}"
export SITE_URL="http://127.0.0.1:$PORT"
# No mail server here: messages are written as files (a real deployment sets EMAIL_BACKEND/EMAIL_HOST).
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}"
export EMAIL_FILE_PATH="${EMAIL_FILE_PATH:-$PWD/$STATE/mail}"

echo "=== deploy check (with HTTPS=1, as behind TLS)"
HTTPS=1 .venv/bin/python manage.py check --deploy --fail-level WARNING
echo "=== migrate, collect static files"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
if [ "${SEED_DEMO:-1}" = "1" ]; then
    .venv/bin/python manage.py seed_demo
fi
echo "=== serving on http://127.0.0.1:$PORT/ (health: /healthz); Ctrl-C stops every process"
exec .venv/bin/honcho --procfile Procfile --app-root . start
