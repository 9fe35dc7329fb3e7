"""The safety API: sae-reports (scoped, submission action), clocks (states, order, masking,
filters) and adjudications (queue, own review, reviewer blinding); fixed query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event
from ecrf.study.services import current_protocol
from safety import selectors
from safety.clocks import ClockKind
from safety.models import Adjudication, AdjudicationReview, Clock, SAEReport, Submission
from safety.services import assessment_record, susar_unblind_and_decide
from tests.conftest import PASSWORD
from tests.safety.conftest import SERIOUS

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _results(response):  # noqa: ANN001, ANN202
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- sae-reports ------------------------------------------------------------------------------


def test_sae_reports_are_scoped_like_the_pages(make_ae, make_participant, site_b, users, make_user, api):
    own = make_ae(**SERIOUS)
    other = make_ae(participant=make_participant(site_b), actor=make_user(Role.INVESTIGATOR, sites=[site_b]), **SERIOUS)
    mine = _results(api(users[Role.INVESTIGATOR]).get("/api/v1/sae-reports/"))
    assert [r["adverse_event"] for r in mine] == [own.pk]
    assert mine[0]["status"] == "draft" and mine[0]["followup"] is False and mine[0]["snapshot"]["verbatim_term"] == "Melaena"
    other_report = SAEReport.objects.get(adverse_event=other)
    assert api(users[Role.INVESTIGATOR]).get(f"/api/v1/sae-reports/{other_report.pk}/").status_code == 404
    assert {r["adverse_event"] for r in _results(api(users[Role.SAFETY_OFFICER]).get("/api/v1/sae-reports/"))} == {own.pk, other.pk}
    assert _results(api(users[Role.SAFETY_OFFICER]).get("/api/v1/sae-reports/", {"site": site_b.code}))[0]["adverse_event"] == other.pk
    assert api(users[Role.PHARMACIST]).get("/api/v1/sae-reports/").status_code == 403


def test_recording_a_submission_meets_the_24_hour_clock(make_ae, users, api):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    sent = ae.aware_at + dt.timedelta(hours=5)
    body = {"expected_version": report.version, "submitted_at": sent.isoformat(), "recipient": "Sponsor safety desk",
            "reference": "SAE-0001"}
    assert api(users[Role.MONITOR]).post(f"/api/v1/sae-reports/{report.pk}/submit/", body, format="json").status_code == 403
    response = api(users[Role.INVESTIGATOR]).post(f"/api/v1/sae-reports/{report.pk}/submit/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "submitted"
    assert data["submissions"] == [{**data["submissions"][0], "submitted_by": users[Role.INVESTIGATOR].username,
                                    "recipient": "Sponsor safety desk", "reference": "SAE-0001", "late": False}]
    clock = Clock.objects.get(adverse_event=ae, kind=ClockKind.SAE_INITIAL)
    assert clock.met_at == sent
    # Again: the report is already submitted (and the version moved on).
    again = api(users[Role.INVESTIGATOR]).post(f"/api/v1/sae-reports/{report.pk}/submit/", body, format="json")
    assert again.status_code == 409


def test_a_submission_time_before_awareness_is_refused_and_nothing_is_stored(make_ae, users, api):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    body = {"expected_version": report.version, "submitted_at": (ae.aware_at - dt.timedelta(minutes=1)).isoformat(),
            "recipient": "Sponsor", "reference": "SAE-1"}
    response = api(users[Role.INVESTIGATOR]).post(f"/api/v1/sae-reports/{report.pk}/submit/", body, format="json")
    assert response.status_code == 400
    assert "before the investigator became aware" in response.json()["error"]["fields"]["submitted_at"][0]
    report.refresh_from_db()
    assert report.status == "draft" and not Submission.objects.exists()
    assert Clock.objects.get(adverse_event=ae).met_at is None
    missing = api(users[Role.INVESTIGATOR]).post(f"/api/v1/sae-reports/{report.pk}/submit/", {"expected_version": report.version},
                                                  format="json")
    assert missing.status_code == 400 and {"submitted_at", "recipient", "reference"} <= set(missing.json()["error"]["fields"])
    stale = api(users[Role.INVESTIGATOR]).post(f"/api/v1/sae-reports/{report.pk}/submit/",
                                                {**body, "expected_version": 99, "submitted_at": ae.aware_at.isoformat()}, format="json")
    assert stale.status_code == 409


def test_sae_report_list_costs_a_fixed_number_of_queries(make_ae, make_participant, users, api, django_assert_max_num_queries):
    def submit_all():  # noqa: ANN202
        for report in SAEReport.objects.filter(status="draft"):
            Submission.objects.create(report=report, submitted_at=report.adverse_event.aware_at, submitted_by=users[Role.INVESTIGATOR],
                                      recipient="Sponsor", reference=f"R{report.pk}")

    make_ae(**SERIOUS)
    submit_all()
    client = api(users[Role.SAFETY_OFFICER])
    with django_assert_max_num_queries(8) as few:
        assert len(_results(client.get("/api/v1/sae-reports/"))) == 1
    for _ in range(6):
        make_ae(participant=make_participant(), **SERIOUS)
    submit_all()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_results(client.get("/api/v1/sae-reports/"))) == 7


# --- clocks -----------------------------------------------------------------------------------


def _set_state(clock: Clock, state: str, now: dt.datetime) -> None:
    """Move a clock's times so that it is in ``state`` at ``now`` (24 h clock)."""
    offsets = {"running": 1, "due_soon": 20, "overdue": 30, "met": 1, "met_late": 30, "closed": 1}
    started = now - dt.timedelta(hours=offsets[state])
    due = started + dt.timedelta(hours=24)
    fields = {"started_at": started, "due_at": due, "due_soon_at": due - dt.timedelta(hours=6), "met_at": None, "closed_at": None}
    if state == "met":
        fields["met_at"] = now - dt.timedelta(minutes=5)
    if state == "met_late":
        fields["met_at"] = now
    if state == "closed":
        fields["closed_at"] = now
    Clock.objects.filter(pk=clock.pk).update(**fields)


@pytest.fixture
def clocks_in_every_state(make_ae, make_participant):
    now = timezone.now()
    out = {}
    for state in ("met", "running", "closed", "overdue", "met_late", "due_soon"):
        ae = make_ae(participant=make_participant(), **SERIOUS)
        clock = Clock.objects.get(adverse_event=ae)
        _set_state(clock, state, now)
        out[state] = clock
    return out


def test_clocks_overdue_first_with_their_states_and_a_state_filter(clocks_in_every_state, users, api):
    rows = _results(api(users[Role.SAFETY_OFFICER]).get("/api/v1/clocks/"))
    assert [r["state"] for r in rows] == ["overdue", "due_soon", "running", "met_late", "met", "closed"]
    overdue = rows[0]
    assert overdue["kind"] == "sae_initial" and overdue["seconds_left"] < 0 and overdue["met_at"] is None
    assert overdue["state_label"] == "Overdue" and overdue["susar_case"] is None
    assert rows[4]["met_at"] is not None and rows[2]["seconds_left"] > 0
    only = _results(api(users[Role.SAFETY_OFFICER]).get("/api/v1/clocks/", {"state": ["overdue", "due_soon"]}))
    assert [r["id"] for r in only] == [clocks_in_every_state["overdue"].pk, clocks_in_every_state["due_soon"].pk]
    detail = api(users[Role.INVESTIGATOR]).get(f"/api/v1/clocks/{clocks_in_every_state['met_late'].pk}/").json()
    assert detail["state"] == "met_late" and detail["label"] == "SAE initial report (24 h)"
    assert api(users[Role.INVESTIGATOR]).get("/api/v1/clocks/", {"state": "nonsense"}).status_code == 400


def test_the_database_state_agrees_with_the_board(clocks_in_every_state, users):
    now = timezone.now()
    fraction = current_protocol().clock_due_soon_fraction
    for clock in selectors.clocks_for(users[Role.SAFETY_OFFICER], now=now):
        row = selectors.clock_row(clock, now=now, pv=False, case_status=None, fraction=fraction)
        assert row.state == clock.shown_state, clock.pk


def test_clock_list_costs_a_fixed_number_of_queries(make_ae, make_participant, users, api, django_assert_max_num_queries):
    make_ae(**SERIOUS)
    client = api(users[Role.SAFETY_OFFICER])
    with django_assert_max_num_queries(6) as few:
        assert len(_results(client.get("/api/v1/clocks/"))) == 1
    for _ in range(8):
        make_ae(participant=make_participant(), **SERIOUS)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_results(client.get("/api/v1/clocks/"))) == 9


@pytest.mark.parametrize("answer", ["active", "placebo"])
def test_susar_clocks_only_for_safety_officers_and_pv_and_never_revealing_the_outcome(make_ae, users, api, randomize, answer):
    ae = make_ae(participant=randomize("MALS", arm=answer), **SERIOUS)
    case = assessment_record(actor=users[Role.SAFETY_OFFICER], ae=ae, expected=False, rsi_reference="IB v3",
                             sponsor_aware_at=ae.aware_at + dt.timedelta(hours=1))
    susar = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_OTHER)
    # Site staff, monitors and data managers: the SAE clock only; the SUSAR clock does not exist for them.
    for role in (Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER):
        assert [r["kind"] for r in _results(api(users[role]).get("/api/v1/clocks/"))] == ["sae_initial"], role
        assert api(users[role]).get(f"/api/v1/clocks/{susar.pk}/").status_code == 404
    for role in (Role.SPONSOR, Role.DSMB, Role.STATISTICIAN, Role.PHARMACIST):
        assert api(users[role]).get("/api/v1/clocks/").status_code == 403, role
    officer = api(users[Role.SAFETY_OFFICER])
    before = officer.get(f"/api/v1/clocks/{susar.pk}/").json()
    assert before["susar_case"] == "potential_susar" and before["state_label"].startswith("Potential SUSAR")
    susar_unblind_and_decide(actor=users[Role.PHARMACOVIGILANCE], assessment=case, reason="SUSAR?", password=PASSWORD)
    after = officer.get(f"/api/v1/clocks/{susar.pk}/").json()
    assert (after["state"], after["state_label"], after["susar_case"], after["met_at"], after["seconds_left"]) == (
        "closed", "Closed", "closed", None, None)
    assert [r["id"] for r in _results(officer.get("/api/v1/clocks/", {"state": "closed"}))] == [susar.pk]
    pv = api(users[Role.PHARMACOVIGILANCE])
    rows = _results(pv.get("/api/v1/clocks/"))
    assert [r["kind"] for r in rows] == ["susar_other"]  # pharmacovigilance: the SUSAR clocks, real state
    assert rows[0]["susar_case"] == ("susar" if answer == "active" else "not_susar")
    # The blinded row is closed either way; a SUSAR's deadline continues in pharmacovigilance's own
    # table, on its clock board.
    assert rows[0]["state"] == "closed"
    board = [(r.clock.kind, r.state) for r in selectors.clocks_for_board(users[Role.PHARMACOVIGILANCE])]
    assert board == ([("susar_other", "overdue")] if answer == "active" else [])


# --- adjudications ----------------------------------------------------------------------------

REVIEW = {"serious": True, "related_iv": True, "related_sc": False, "expected": False, "llt_code": 94000004,
          "special_interest": "bleeding"}


@pytest.fixture
def reviewers(make_user):
    return [make_user(Role.SAFETY_OFFICER) for _ in range(3)]


def test_adjudication_queue_own_review_and_agreement(make_ae, reviewers, api, users):
    ae = make_ae(**SERIOUS)
    adj = Adjudication.objects.get(adverse_event=ae)
    first, second = api(reviewers[0]), api(reviewers[1])
    queue = _results(first.get("/api/v1/adjudications/"))
    assert [a["id"] for a in queue] == [adj.pk] and queue[0]["adverse_event"]["verbatim_term"] == "Melaena"
    assert queue[0]["final"] is None and "arm" not in str(queue).lower()
    assert first.get(f"/api/v1/adjudications/{adj.pk}/review/").status_code == 404
    bad = first.post(f"/api/v1/adjudications/{adj.pk}/review/", {**REVIEW, "llt_code": 1}, format="json")
    assert bad.status_code == 400 and "llt_code" in bad.json()["error"]["fields"] and not AdjudicationReview.objects.exists()
    done = first.post(f"/api/v1/adjudications/{adj.pk}/review/", REVIEW, format="json")
    assert done.status_code == 201 and done.json()["my_review"]["llt_code"] == 94000004
    assert first.get(f"/api/v1/adjudications/{adj.pk}/review/").json()["reviewer"] == reviewers[0].username
    assert _results(first.get("/api/v1/adjudications/")) == []  # already reviewed: out of my queue
    # The second reviewer sees neither the first review nor its content.
    detail = second.get(f"/api/v1/adjudications/{adj.pk}/").json()
    assert detail["my_review"] is None and detail["reviews"] == [] and [a["id"] for a in _results(second.get("/api/v1/adjudications/"))] == [adj.pk]
    final = second.post(f"/api/v1/adjudications/{adj.pk}/review/", REVIEW, format="json").json()
    assert final["status"] == "final" and final["final"] == REVIEW and len(final["reviews"]) == 2
    assert api(users[Role.INVESTIGATOR]).get("/api/v1/adjudications/").status_code == 403
    assert api(users[Role.PHARMACOVIGILANCE]).get(f"/api/v1/adjudications/{adj.pk}/").status_code == 403


def test_a_reviewer_asking_for_the_other_pending_review_or_the_arm_is_refused_and_audited(make_ae, reviewers, api):
    adj = Adjudication.objects.get(adverse_event=make_ae(**SERIOUS))
    review = api(reviewers[0]).post(f"/api/v1/adjudications/{adj.pk}/review/", REVIEW, format="json").json()["my_review"]
    second = api(reviewers[1])
    response = second.get(f"/api/v1/adjudications/{adj.pk}/reviews/{review['id']}/")
    assert response.status_code == 404 and "Melaena" not in response.content.decode()
    event = Event.objects.filter(kind="access_denied").last()
    assert event.actor == reviewers[1] and event.object_id == str(review["id"])
    assert api(reviewers[0]).get(f"/api/v1/adjudications/{adj.pk}/reviews/{review['id']}/").status_code == 200
    for url, params in ((f"/api/v1/adjudications/{adj.pk}/", {"fields": "arm"}), ("/api/v1/adjudications/", {"treatment": "1"})):
        before = Event.objects.filter(kind="access_denied").count()
        assert second.get(url, params).status_code == 403
        assert Event.objects.filter(kind="access_denied").count() == before + 1
        assert Event.objects.filter(kind="access_denied").last().actor == reviewers[1]
    refused = second.post(f"/api/v1/adjudications/{adj.pk}/review/", {**REVIEW, "arm": "active"}, format="json")
    assert refused.status_code == 403 and adj.reviews.count() == 1


def test_adjudication_queue_costs_a_fixed_number_of_queries(make_ae, make_participant, reviewers, api, django_assert_max_num_queries):
    make_ae(**SERIOUS)
    client = api(reviewers[0])
    with django_assert_max_num_queries(6) as few:
        assert len(_results(client.get("/api/v1/adjudications/"))) == 1
    for _ in range(6):
        make_ae(participant=make_participant(), **SERIOUS)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_results(client.get("/api/v1/adjudications/"))) == 7
