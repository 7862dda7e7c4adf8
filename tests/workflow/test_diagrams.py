"""The process diagram page and the exported diagrams."""

from __future__ import annotations

from django.core.management import call_command

from workflow.diagrams import fsm_dot, fsm_transitions


def test_hr_sees_the_flow_chart_and_every_transition(client, hr):
    client.force_login(hr)
    response = client.get("/workflow/diagram/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body
    for source, name, target in fsm_transitions():
        assert f"<code>{name}</code>" in body
        assert f"<code>{source}</code>" in body
        assert f"<code>{target}</code>" in body


def test_the_diagram_is_hrs_only(client, requester):
    assert client.get("/workflow/diagram/").status_code == 302  # to the login page
    client.force_login(requester)
    assert client.get("/workflow/diagram/").status_code == 403


def test_the_state_machine_has_the_rulebooks_transitions():
    edges = {(s, n, t) for s, n, t in fsm_transitions()}
    assert ("screening", "accept_receivable", "awaiting_assignment") in edges
    assert ("awaiting_endorsement", "return_to_reviewer", "under_review") in edges
    assert {n for _, n, _ in edges} >= {"submit", "decide", "issue_outcome", "withdraw"}
    assert len(edges) == 21
    dot = fsm_dot()
    assert dot.startswith("digraph")
    assert dot.count("->") == 21


def test_export_diagrams_writes_both_files(tmp_path):
    call_command("export_diagrams", str(tmp_path))
    assert (tmp_path / "flow.svg").read_text().startswith("<svg")
    assert "digraph" in (tmp_path / "case-states.dot").read_text()
