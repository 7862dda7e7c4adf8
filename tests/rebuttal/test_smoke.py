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
    assert case.events.count() == 11
    assert case.history.count() == 11
