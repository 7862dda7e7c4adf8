"""The pure parts of ``verify/faults.py``: which responses an outage window covers, and the verdicts."""

from __future__ import annotations

from collections import Counter

from verify import faults
from verify.faults import CaseRecord, Recorder, Sample, Window


def sample(started: float, ended: float, status: int | None, *, expected: bool = False) -> Sample:
    return Sample(started, ended, "create", status, "" if status else "ConnectionError", expected=expected)


def test_a_response_overlapping_a_window_is_inside_it():
    window = Window("restart", started=100.0, recovered=103.0)
    assert window.overlaps(sample(99.0, 100.5, 503))  # sent before the fault, answered during it
    assert window.overlaps(sample(102.0, 104.0, 503))  # sent during, answered after recovery
    assert not window.overlaps(sample(95.0, 99.9, 503))
    assert not window.overlaps(sample(103.1, 103.5, 503))


def test_a_window_that_never_recovered_covers_everything_after_its_fault():
    window = Window("kill-main", started=100.0, recovered=None)
    assert window.overlaps(sample(5000.0, 5001.0, 503))
    assert window.seconds is None


def test_classify_sorts_successes_expected_answers_and_errors_by_window():
    windows = [Window("restart", 100.0, 103.0)]
    samples = [
        sample(1.0, 1.1, 201),
        sample(1.0, 1.1, 302),
        sample(101.0, 101.2, 503),
        sample(101.0, 101.2, None),
        sample(101.0, 101.2, 409, expected=True),  # "in progress": retried by the client
        sample(200.0, 200.1, 503),
        sample(200.0, 200.1, 500),
        sample(200.0, 200.1, 404),
    ]
    classified = faults.classify(samples, windows)
    assert classified.total == 8
    assert classified.ok == 2
    assert classified.expected_4xx == 1
    assert classified.in_window == Counter({"503": 1, "no answer": 1})
    assert classified.outside == Counter({"503": 1, "500": 1, "404": 1})


def test_errors_are_acceptable_only_as_503_inside_windows():
    windows = [Window("restart", 100.0, 103.0)]
    assert faults.errors_acceptable(faults.classify([sample(101.0, 101.1, 503)], windows))
    assert faults.errors_acceptable(faults.classify([sample(1.0, 1.1, 200)], windows))
    # A 500 during an outage is still a bug; a 503 outside one is an outage nobody injected.
    assert not faults.errors_acceptable(faults.classify([sample(101.0, 101.1, 500)], windows))
    assert not faults.errors_acceptable(faults.classify([sample(150.0, 150.1, 503)], windows))
    # A request that got no answer during a restart is not a 503 either: it is reported and fails.
    assert not faults.errors_acceptable(faults.classify([sample(101.0, 101.1, None)], windows))


def test_recovery_figures_and_the_sixty_second_bound():
    windows = [Window("restart", 0.0, 2.0), Window("restart", 10.0, 14.0), Window("kill-pool", 20.0, 21.0)]
    assert faults.recovery_figures(windows) == (2.0, 4.0, 0)
    assert faults.recoveries_acceptable(windows)
    assert not faults.recoveries_acceptable([*windows, Window("restart", 30.0, 91.0)])
    assert not faults.recoveries_acceptable([*windows, Window("kill-main", 30.0, None)])
    assert faults.recovery_figures([]) == (None, None, 0)


def test_the_schedule_spreads_and_interleaves_the_faults():
    plan = faults.schedule(restarts=10, kills=50, seconds=300)
    assert [kind for _due, kind in plan].count("restart") == 10
    assert sum(kind.startswith("kill") for _due, kind in plan) == 50
    assert [kind for _due, kind in plan].count("kill-main") == 10
    dues = [due for due, _kind in plan]
    assert dues == sorted(dues)
    assert dues[0] > 0
    assert dues[-1] < 300


def test_paths_call_for_their_letters_and_notices():
    assert [faults.path_of(n) for n in range(10)].count("decide") == 8
    record = CaseRecord("RUN-1", "decide", requester_email="Req@example.org", case_id=1)
    record.done = [name for name, _role, _data in faults.DECIDE_PATH]
    assert faults.expected_letters(record) == Counter({"acknowledgement": 1, "outcome": 1})
    emails = {
        "hr_specialist": ["hana@example.org"],
        "endorser": ["ethan@example.org"],
        "decision_maker": ["dora@example.org"],
        "reviewer": ["rev@example.org"],
    }
    notices = faults.expected_notices(record, emails)
    assert notices[("case_submitted", "req@example.org")] == 1
    assert notices[("case_filed", "hana@example.org")] == 1
    assert notices[("case_decided", "req@example.org")] == 1
    assert sum(notices.values()) == 7
    # A case abandoned after submit calls only for what its answered transitions call for.
    record.done = ["submit"]
    assert faults.expected_letters(record) == Counter({"acknowledgement": 1})
    assert sum(faults.expected_notices(record, emails).values()) == 2


def facts_for(record: CaseRecord, *, letters: dict[str, int], notices: list[list[str]]) -> dict:
    return {
        "cases": {record.marker: [{"id": 7, "status": faults.END_STATE[record.path]}]},
        "letters": {"7": letters},
        "notifications": {"7": notices},
        "all_notifications": {},
        "letters_checked": 2,
        "letters_altered": 0,
        "chains_checked": 1,
        "chains_broken": 0,
    }


def reject_record() -> CaseRecord:
    record = CaseRecord("RUN-2", "reject", requester_email="req@example.org", case_id=7)
    record.done = ["submit", "start_screening", "reject_not_receivable"]
    return record


EMAILS = {"hr_specialist": ["hana@example.org"], "endorser": [], "decision_maker": [], "reviewer": []}
GOOD_NOTICES = [
    ["case_submitted", "req@example.org", "sent", "<n-1>"],
    ["case_filed", "hana@example.org", "sent", "<n-2>"],
    ["case_not_receivable", "req@example.org", "sent", "<n-3>"],
]


def verdicts(record: CaseRecord, facts: dict, mail: Counter, windows: list[Window] | None = None) -> dict:
    recorder = Recorder()
    recorder.samples = [sample(1.0, 1.1, 201)]
    found = faults.verdicts_of(
        records=[record],
        recorder=recorder,
        windows=[Window("restart", 50.0, 52.0)] if windows is None else windows,
        facts=facts,
        mail=mail,
        emails=EMAILS,
        planned=(1, 0),
    )
    return {verdict.name: verdict.passed for verdict in found}


def test_verdicts_pass_when_everything_is_exactly_once():
    record = reject_record()
    facts = facts_for(record, letters={"acknowledgement": 1, "not_receivable": 1}, notices=GOOD_NOTICES)
    found = verdicts(record, facts, Counter({"<n-1>": 1, "<n-2>": 1, "<n-3>": 1}))
    assert all(found.values()), found


def test_a_missing_letter_a_duplicate_mail_and_an_unsent_notice_each_fail():
    record = reject_record()
    facts = facts_for(record, letters={"acknowledgement": 1}, notices=GOOD_NOTICES)
    facts["notifications"]["7"][2] = ["case_not_receivable", "req@example.org", "pending", "<n-3>"]
    found = verdicts(record, facts, Counter({"<n-1>": 2, "<n-2>": 1}))
    assert not found["each case has exactly its letters (none missing or twice)"]
    assert not found["each notification sent, its message written exactly once"]
    assert not found["no message written twice (all notifications)"]
    assert found["notifications exactly once per event"]


def test_a_case_created_twice_or_a_notice_row_twice_fails():
    record = reject_record()
    facts = facts_for(
        record,
        letters={"acknowledgement": 1, "not_receivable": 1},
        notices=[*GOOD_NOTICES, ["case_filed", "hana@example.org", "sent", "<n-4>"]],
    )
    facts["cases"][record.marker].append({"id": 8, "status": "draft"})
    found = verdicts(record, facts, Counter({"<n-1>": 1, "<n-2>": 1, "<n-3>": 1, "<n-4>": 1}))
    assert not found["every case meant exists exactly once"]
    facts["cases"][record.marker].pop()
    found = verdicts(record, facts, Counter({"<n-1>": 1, "<n-2>": 1, "<n-3>": 1, "<n-4>": 1}))
    assert found["every case meant exists exactly once"]
    assert not found["notifications exactly once per event"]


def test_work_left_to_the_scheduler_and_a_missed_fault_fail():
    record = reject_record()
    facts = facts_for(record, letters={"acknowledgement": 1, "not_receivable": 1}, notices=GOOD_NOTICES)
    facts["rescued"] = {
        "letter requests": [{"id": 12, "mine": False, "at": 10.0}],
        "notifications": [{"id": 31, "mine": True, "at": 20.0}],
    }
    found = verdicts(record, facts, Counter({"<n-1>": 1, "<n-2>": 1, "<n-3>": 1}), windows=[])
    assert not found["no letter or e-mail of the run left to the scheduler's retry"]
    assert not found["all the faults were injected"]


def test_message_ids_are_counted_across_the_mail_files(tmp_path):
    (tmp_path / "a.log").write_text(
        "Subject: x\nMessage-ID: <notification-1@host>\n\nbody\n" + "-" * 79 + "\n"
        "Subject: y\nMessage-ID: <notification-2@host>\n\nbody\n"
    )
    (tmp_path / "b.log").write_text("Subject: x\nMessage-ID: <notification-1@host>\n\nbody\n")
    assert faults.message_ids(tmp_path) == Counter({"<notification-1@host>": 2, "<notification-2@host>": 1})
    assert faults.message_ids(tmp_path / "missing") == Counter()
