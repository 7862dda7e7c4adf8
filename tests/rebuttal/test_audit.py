"""The audit trail is evidence: append-only in the ORM, the admin and (on
PostgreSQL) the database, hash-chained so tampering behind the app's back is
detected, and every read of a case is logged."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from rebuttal.audit import AppendOnlyError
from rebuttal.audit_chain import verify_case_chain
from rebuttal.models import CaseAccess, CaseEvent, EventKind, Policy, RebuttalCase
from rebuttal.services import case_record_access, event_digest, event_fields
from tests.factories import UserFactory, advance, make_case

AUDIT_TABLES = (
    "rebuttal_caseevent",
    "rebuttal_caseaccess",
    "rebuttal_historicalrebuttalcase",
    "rebuttal_policy",
)


@pytest.fixture
def screened_case(requester, hr) -> RebuttalCase:
    """A case with three events (created, submitted, screening) and three history rows."""
    case = advance(make_case(requester), to="screening", requester=requester, hr=hr)
    case_record_access(case=case, actor=hr)
    return case


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def _run_verifier(*args: str) -> str:
    """Run ``verify_audit_chain``; return its stdout or raise CommandError with stderr attached."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as exc:
        exc.stderr = err.getvalue()
        raise
    return out.getvalue()


@contextlib.contextmanager
def behind_the_apps_back() -> Iterator[None]:
    """Let raw SQL change rebuttal_caseevent: SQLite has no trigger; on PostgreSQL switch it off."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # ALTER TABLE refuses while the test transaction's deferred FK checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE rebuttal_caseevent DISABLE TRIGGER rebuttal_caseevent_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE rebuttal_caseevent ENABLE TRIGGER rebuttal_caseevent_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _raw(sql: str, params: list) -> None:
    with behind_the_apps_back(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- (a) the ORM and the admin refuse to change the record --------------------


def _records(case: RebuttalCase) -> dict[str, object]:
    return {
        "event": case.events.order_by("seq").first(),
        "access": CaseAccess.objects.filter(case=case).first(),
        "history": case.history.order_by("history_id").first(),
        "policy": Policy.objects.order_by("version").first(),
    }


@pytest.mark.parametrize("kind", ["event", "access", "history", "policy"])
def test_saving_an_existing_audit_record_is_refused(screened_case, kind):
    record = _records(screened_case)[kind]
    if kind == "event":
        record.reason = "Rewritten."
    elif kind == "access":
        record.what = "nothing"
    elif kind == "history":
        record.statement = "Rewritten."
    else:
        record.note = "Rewritten."
    with pytest.raises(AppendOnlyError):
        record.save()


@pytest.mark.parametrize("kind", ["event", "access", "history", "policy"])
def test_deleting_an_audit_record_is_refused(screened_case, kind):
    record = _records(screened_case)[kind]
    with pytest.raises(AppendOnlyError):
        record.delete()
    assert type(record).objects.filter(pk=record.pk).exists()


def _querysets(case: RebuttalCase) -> dict[str, object]:
    return {
        "event": CaseEvent.objects.filter(case=case),
        "access": CaseAccess.objects.filter(case=case),
        "history": case.history.all(),
        "all history": RebuttalCase.history.all(),
        "policy": Policy.objects.all(),
    }


@pytest.mark.parametrize("kind", ["event", "access", "history", "all history", "policy"])
def test_queryset_update_of_audit_records_is_refused(screened_case, kind):
    queryset = _querysets(screened_case)[kind]
    field = {"event": "reason", "access": "what", "policy": "note"}.get(kind, "statement")
    with pytest.raises(AppendOnlyError):
        queryset.update(**{field: "Rewritten."})


@pytest.mark.parametrize("kind", ["event", "access", "history", "all history", "policy"])
def test_queryset_delete_of_audit_records_is_refused(screened_case, kind):
    queryset = _querysets(screened_case)[kind]
    count = queryset.count()
    with pytest.raises(AppendOnlyError):
        queryset.delete()
    assert count > 0
    assert _querysets(screened_case)[kind].count() == count


def test_bulk_update_of_events_is_refused(screened_case):
    events = list(screened_case.events.all())
    for event in events:
        event.reason = "Rewritten."
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.bulk_update(events, ["reason"])
    assert not screened_case.events.filter(reason="Rewritten.").exists()


@pytest.mark.parametrize("model", [CaseEvent, CaseAccess, Policy, RebuttalCase])
def test_admin_offers_no_add_change_or_delete_even_to_a_superuser(superuser, model):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request) is True
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False


def test_history_rows_have_no_admin_pages_of_their_own():
    # They are shown, read-only, on the case's history page only.
    assert not admin.site.is_registered(RebuttalCase.history.model)


def test_admin_event_page_is_view_only_and_refuses_a_post(client, superuser, screened_case):
    event = screened_case.events.order_by("seq").first()
    client.force_login(superuser)
    url = f"/admin/rebuttal/caseevent/{event.pk}/change/"

    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert b"/delete/" not in page.content

    posted = client.post(url, {"reason": "Rewritten.", "kind": "created", "seq": 1, "hash": "0" * 64})
    assert posted.status_code == 403
    assert client.post(f"/admin/rebuttal/caseevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason == ""


def test_admin_access_page_refuses_change_and_delete(client, superuser, screened_case):
    access = CaseAccess.objects.filter(case=screened_case).first()
    client.force_login(superuser)
    assert client.post(f"/admin/rebuttal/caseaccess/{access.pk}/change/", {"what": "x"}).status_code == 403
    assert client.post(f"/admin/rebuttal/caseaccess/{access.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CaseAccess.objects.filter(pk=access.pk, what="case").exists()


def test_history_revert_is_disabled(client, superuser, screened_case):
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    first = screened_case.history.order_by("history_id").first()
    client.force_login(superuser)
    url = f"/admin/rebuttal/rebuttalcase/{screened_case.pk}/history/{first.history_id}/"

    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    # Reverting by posting the old version's form must not rewrite the case.
    posted = client.post(url, {"statement": "Reverted by an administrator.", "office": "Elsewhere"})
    assert posted.status_code == 403
    screened_case.refresh_from_db()
    assert screened_case.status == "screening"
    assert screened_case.office == "Geneva Office"
    assert screened_case.history.count() == 3


def test_admin_offers_no_delete_action_on_the_event_list(client, superuser, screened_case):
    client.force_login(superuser)
    page = client.get("/admin/rebuttal/caseevent/")
    assert page.status_code == 200
    assert b"delete_selected" not in page.content


# --- (b) PostgreSQL refuses the same to raw SQL -------------------------------


def _sql_in_savepoint(*statements: str) -> None:
    """Run ``statements`` in a savepoint, so that a refused one rolls back cleanly."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_raw_sql_update_of_an_audit_table_is_refused_by_the_database(screened_case, table):
    with pytest.raises(DatabaseError, match=f"audit records in {table} are append-only \\(UPDATE refused\\)"):
        _sql_in_savepoint(f"UPDATE {table} SET id = id")


@pytest.mark.postgres
@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_raw_sql_delete_from_an_audit_table_is_refused_by_the_database(screened_case, table):
    before = _count(table)
    assert before > 0
    with pytest.raises(DatabaseError, match=f"audit records in {table} are append-only \\(DELETE refused\\)"):
        _sql_in_savepoint(f"DELETE FROM {table}")
    assert _count(table) == before


@pytest.mark.postgres
@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_truncate_of_an_audit_table_is_refused_unless_the_session_allows_it(screened_case, table):
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        _sql_in_savepoint(
            "SET CONSTRAINTS ALL IMMEDIATE",  # TRUNCATE refuses while deferred FK checks are pending
            "SET rebuttal.allow_truncate = 'off'",
            f"TRUNCATE {table} CASCADE",
        )
    assert _count(table) > 0
    with connection.cursor() as cursor:
        # The SET rolled back with the failed block: the test session's allowance is back.
        cursor.execute("SHOW rebuttal.allow_truncate")
        assert cursor.fetchone() == ("on",)


@pytest.mark.postgres
def test_appending_audit_records_still_works_under_the_triggers(screened_case, hr):
    case = advance(screened_case, to="awaiting_assignment", requester=screened_case.requester, hr=hr)
    case_record_access(case=case, actor=hr, what="timeline")
    assert case.events.count() == 4
    assert case.history.count() == 4
    assert verify_case_chain(case) == []


# --- (c) the hash chain --------------------------------------------------------


def test_verifier_passes_untouched_cases(screened_case, requester):
    make_case(requester)
    out = _run_verifier()
    assert "2 case chains verified, none broken." in out
    assert verify_case_chain(screened_case) == []


def test_verifier_detects_an_altered_event(screened_case):
    event = screened_case.events.get(seq=2)
    _raw("UPDATE rebuttal_caseevent SET reason = %s WHERE id = %s", ["Backdated approval.", event.pk])

    with pytest.raises(CommandError, match="1 of 1 case chains are broken") as failure:
        _run_verifier()
    assert f"BROKEN {screened_case.reference} event #2: content altered" in failure.value.stderr


def test_verifier_detects_an_altered_timestamp(screened_case):
    event = screened_case.events.get(seq=3)
    _raw(
        "UPDATE rebuttal_caseevent SET at = %s WHERE id = %s",
        [event.at - dt.timedelta(days=3), event.pk],
    )
    with pytest.raises(CommandError) as failure:
        _run_verifier()
    assert f"{screened_case.reference} event #3: content altered" in failure.value.stderr


def test_verifier_detects_a_deleted_event(screened_case):
    event = screened_case.events.get(seq=2)
    _raw("DELETE FROM rebuttal_caseevent WHERE id = %s", [event.pk])

    with pytest.raises(CommandError) as failure:
        _run_verifier()
    stderr = failure.value.stderr
    assert f"{screened_case.reference} event #3: expected event #2" in stderr
    assert f"{screened_case.reference} event #3: does not link to the event before" in stderr


def test_verifier_detects_a_deleted_last_event(screened_case):
    _raw("DELETE FROM rebuttal_caseevent WHERE case_id = %s AND seq = 3", [screened_case.pk])

    with pytest.raises(CommandError) as failure:
        _run_verifier()
    assert f"{screened_case.reference} chain head: case's chain head does not match" in failure.value.stderr


def test_verifier_detects_a_reordered_chain(screened_case):
    second, third = screened_case.events.get(seq=2), screened_case.events.get(seq=3)
    # Swap the two events' places in the chain (via a free number: (case, seq) is unique).
    _raw("UPDATE rebuttal_caseevent SET seq = 1000 WHERE id = %s", [second.pk])
    _raw("UPDATE rebuttal_caseevent SET seq = 2 WHERE id = %s", [third.pk])
    _raw("UPDATE rebuttal_caseevent SET seq = 3 WHERE id = %s", [second.pk])

    problems = [str(p) for p in verify_case_chain(screened_case)]
    assert f"{screened_case.reference} event #2: does not link to the event before" in problems
    assert f"{screened_case.reference} event #2: content altered (hash mismatch)" in problems
    with pytest.raises(CommandError) as failure:
        _run_verifier()
    assert f"{screened_case.reference} event #2" in failure.value.stderr


def test_verifier_detects_an_event_forged_at_the_end_of_the_chain(screened_case, hr):
    # A well-formed event with a correct hash, inserted without going through a
    # service: the case row's chain head does not know it.
    forged = CaseEvent(
        case=screened_case,
        seq=4,
        at=timezone.now(),
        actor=hr,
        kind=EventKind.TRANSITION,
        transition="accept_receivable",
        from_status="screening",
        to_status="awaiting_assignment",
        prev_hash=screened_case.last_event_hash,
    )
    forged.hash = event_digest(prev_hash=forged.prev_hash, fields=event_fields(forged))
    forged.save()

    with pytest.raises(CommandError) as failure:
        _run_verifier()
    assert f"{screened_case.reference} chain head" in failure.value.stderr


def test_verifier_for_one_case_ignores_other_broken_cases(screened_case, requester):
    other = make_case(requester)
    _raw("UPDATE rebuttal_caseevent SET reason = 'x' WHERE case_id = %s", [screened_case.pk])

    assert "1 case chains verified, none broken." in _run_verifier("--case", other.reference)
    with pytest.raises(CommandError):
        _run_verifier("--case", screened_case.reference)
    with pytest.raises(CommandError, match="No case with reference"):
        _run_verifier("--case", "RB-1999-0001")


# --- read access is logged -------------------------------------------------------


def test_every_read_of_a_case_is_logged(api_as, requester, hr, screened_case):
    before = CaseAccess.objects.filter(case=screened_case).count()

    assert api_as(hr).get(f"/api/v1/cases/{screened_case.pk}/").status_code == 200
    assert api_as(requester).get(f"/api/v1/cases/{screened_case.pk}/").status_code == 200
    assert api_as(hr).get(f"/api/v1/cases/{screened_case.pk}/").status_code == 200

    new = list(
        CaseAccess.objects.filter(case=screened_case).order_by("id").values_list("actor", "what")[before:]
    )
    assert new == [(hr.pk, "case"), (requester.pk, "case"), (hr.pk, "case")]


def test_a_case_not_visible_to_the_reader_logs_no_access(api_as, outsider, screened_case):
    before = CaseAccess.objects.count()
    assert api_as(outsider).get(f"/api/v1/cases/{screened_case.pk}/").status_code == 404
    assert CaseAccess.objects.count() == before


def test_hr_sees_who_opened_the_case_in_the_timeline(api_as, requester, hr, screened_case):
    api_as(requester).get(f"/api/v1/cases/{screened_case.pk}/")
    timeline = api_as(hr).get(f"/api/v1/cases/{screened_case.pk}/timeline/").json()

    viewed = [(e["actor"], e["changes"]["what"]) for e in timeline if e["kind"] == "viewed"]
    assert ("Alice Abara", "case") in viewed
    assert (hr.username, "timeline") in viewed
    assert [e["kind"] for e in timeline if e["kind"] != "viewed"] == ["created", "transition", "transition"]


def test_requester_does_not_see_who_opened_the_case(api_as, requester, hr, screened_case):
    api_as(hr).get(f"/api/v1/cases/{screened_case.pk}/")
    timeline = api_as(requester).get(f"/api/v1/cases/{screened_case.pk}/timeline/").json()

    assert [e["kind"] for e in timeline] == ["created", "transition", "transition"]
    # The requester's own reading is still logged, just not shown to them.
    assert CaseAccess.objects.filter(case=screened_case, actor=requester, what="timeline").exists()
