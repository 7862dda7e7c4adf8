"""Shared people and helpers: a requester, an HR specialist, a reviewer, an
endorser, a decision-maker, an HR administrator and an outsider."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.backends.signals import connection_created
from rest_framework.test import APIClient

from rebuttal.permissions import ROLE_GROUPS
from tests.factories import UserFactory, ensure_default_policy


def pytest_configure(config):  # noqa: ANN001
    from django.conf import settings

    # Hashing test passwords with PBKDF2 costs ~0.3 s per user; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _allow_truncate(sender, connection, **kwargs):  # noqa: ANN001, ANN003
    # The audit triggers refuse TRUNCATE; the test database is reset with it
    # between transactional tests, so allow it in this process only.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET rebuttal.allow_truncate = 'on'")


connection_created.connect(_allow_truncate)


@pytest.fixture(autouse=True, scope="session")
def _no_audit_file_of_the_developer():  # noqa: ANN202
    """Tests must not append to the audit file of the machine's own site (``AUDIT_LOG_FILE``):
    its handlers are taken off the ``rebuttal.audit`` logger; tests of the sink add their own."""
    import logging

    from config.logging import AuditFileHandler

    logger = logging.getLogger("rebuttal.audit")
    removed = [handler for handler in logger.handlers if isinstance(handler, AuditFileHandler)]
    for handler in removed:
        logger.removeHandler(handler)
        handler.close()


def pytest_collection_modifyitems(config, items):  # noqa: ANN001
    """PostgreSQL-only tests run on PostgreSQL; elsewhere they skip, saying why.

    With REQUIRE_POSTGRES_TESTS=1 (CI's PostgreSQL run) a skip would be an error.
    """
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        return
    if os.environ.get("REQUIRE_POSTGRES_TESTS") == "1":
        raise pytest.UsageError("REQUIRE_POSTGRES_TESTS=1 but DATABASE_URL is not PostgreSQL")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI runs these)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def policy(db):  # noqa: ANN001, ANN201
    return ensure_default_policy()


@pytest.fixture
def groups(db):  # noqa: ANN001, ANN201
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}


def _member(groups, *names, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    user = UserFactory(**kwargs)
    for name in names:
        user.groups.add(groups[name])
    return user


@pytest.fixture
def requester(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, username="alice", email="alice@example.org", first_name="Alice", last_name="Abara")


@pytest.fixture
def other_requester(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, username="olga", email="olga@example.org")


@pytest.fixture
def hr(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, "hr_specialist", username="hana", email="hana@example.org")


@pytest.fixture
def hr_admin(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, "hr_admin", username="adam", email="adam@example.org")


@pytest.fixture
def reviewer(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, "reviewer", username="rita", email="rita@example.org")


@pytest.fixture
def endorser(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, "endorser", username="ethan", email="ethan@example.org")


@pytest.fixture
def decision_maker(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, "decision_maker", username="dora", email="dora@example.org")


@pytest.fixture
def outsider(groups, policy):  # noqa: ANN001, ANN201
    return _member(groups, username="oscar", email="oscar@example.org")


@pytest.fixture
def api():  # noqa: ANN201
    return APIClient()


@pytest.fixture
def api_as(api):  # noqa: ANN001, ANN201
    def login(user):  # noqa: ANN001, ANN202
        api.force_authenticate(user=user)
        return api

    return login


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_cache():  # noqa: ANN202
    """Each test starts with an empty cache (the queue's state counts are cached)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
