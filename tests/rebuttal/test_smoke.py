from tests.factories import advance, make_case


def test_main_path_reaches_closed(requester, hr, reviewer, endorser, decision_maker):
    case = make_case(requester)
    case = advance(
        case,
        to="closed",
        requester=requester,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
    )
    assert case.status == "closed"
    # Ten transitions and the outcome letter's issue (which does not change a field: no history row).
    assert case.events.count() == 11 + 1
    assert case.history.count() == 11
