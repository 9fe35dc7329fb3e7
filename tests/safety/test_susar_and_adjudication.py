"""The expedited-reporting decision (blinded assessment, single-case unblinding, upgrade-only
causality), the counterfactual blinding test, and two-reviewer adjudication."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event
from ecrf.core.errors import DomainError
from ecrf.crf.services import form_update
from safety.clocks import ClockKind
from ecrf.randomization.models import Unblinding
from safety.models import (
    Adjudication,
    AdjudicationStatus,
    CaseStatus,
    Clock,
    ExpeditedAssessment,
    PvClock,
    PvOutcome,
    PvSubmission,
    Submission,
)
from safety.selectors import adjudication_queue
from safety.services import adjudication_review_submit, assessment_record, susar_report_submit, susar_unblind_and_decide
from safety.specs import AE_SPEC
from tests.conftest import PASSWORD
from tests.safety.conftest import SERIOUS

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _assess(users, ae, **kw):  # noqa: ANN001, ANN202
    args = {"expected": False, "rsi_reference": "IB anakinra v3", "sponsor_aware_at": ae.aware_at + dt.timedelta(hours=2)}
    args.update(kw)
    return assessment_record(actor=users[Role.SAFETY_OFFICER], ae=ae, **args)


def test_related_unexpected_case_becomes_a_potential_susar_with_a_blinded_15_day_clock(make_ae, users, mals):
    ae = make_ae(participant=mals, **SERIOUS)  # investigator: IV possible (MALS -> anakinra, IV)
    case = _assess(users, ae)
    assert (case.product, case.route, case.related, case.status) == ("anakinra", "iv", True, CaseStatus.POTENTIAL_SUSAR)
    clock = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_OTHER)
    assert clock.started_at == case.sponsor_aware_at and clock.visibility == "masked"


def test_expected_or_unrelated_is_not_a_candidate(make_ae, users, mals, randomize):
    assert _assess(users, make_ae(participant=mals, **SERIOUS), expected=True).status == CaseStatus.NOT_CANDIDATE
    immunoparalysis = randomize("immunoparalysis")  # interferon-gamma, SC: the SC causality is "unlikely"
    case = _assess(users, make_ae(participant=immunoparalysis, **SERIOUS))
    assert (case.product, case.route) == ("interferon-gamma", "sc")
    assert case.status == CaseStatus.NOT_CANDIDATE and not case.related
    # ... but the sponsor may upgrade the SC causality, which makes it related.
    case = _assess(users, make_ae(participant=immunoparalysis, **SERIOUS), sponsor_causality_sc="probable")
    assert case.status == CaseStatus.POTENTIAL_SUSAR


def test_a_downgrade_of_investigator_causality_is_refused_and_nothing_is_stored(make_ae, users, mals, api):
    ae = make_ae(participant=mals, **SERIOUS)
    with pytest.raises(DomainError) as exc:
        _assess(users, ae, sponsor_causality_iv="unlikely")
    assert exc.value.status == 400 and "never downgrade" in exc.value.message
    assert "sponsor_causality_iv" in exc.value.fields
    assert not ExpeditedAssessment.objects.exists()
    assert not Clock.objects.filter(kind__in=["susar_other", "susar_fatal"]).exists()
    # Through the page too: the error sits next to the field.
    client = Client()
    client.force_login(users[Role.SAFETY_OFFICER])
    response = client.post(f"/safety/ae/{ae.pk}/assess/", {"expected": "no", "rsi_reference": "IB v3",
                                                            "sponsor_aware_at": "2025-06-01T12:00", "sponsor_causality_iv": "unlikely"})
    assert response.status_code == 200 and "never be weaker" not in response.content.decode()
    assert "Cannot be weaker" in response.content.decode()


def test_sponsor_awareness_before_the_investigator_is_refused(make_ae, users, mals):
    ae = make_ae(participant=mals, **SERIOUS)
    with pytest.raises(DomainError) as exc:
        _assess(users, ae, sponsor_aware_at=ae.aware_at - dt.timedelta(hours=1))
    assert "sponsor_aware_at" in exc.value.fields


@pytest.mark.parametrize("answer", ["active", "placebo"])
def test_pharmacovigilance_unblinds_one_case_and_decides(make_ae, users, randomize, answer):
    """The real single-case unblinding (ecrf.randomization.unblinding.reveal_for_susar) of a
    participant the real allocation list assigned to ``answer``."""
    pv = users[Role.PHARMACOVIGILANCE]
    ae = make_ae(participant=randomize("MALS", arm=answer), **SERIOUS)
    case = _assess(users, ae)
    with pytest.raises(DomainError) as exc:
        susar_unblind_and_decide(actor=users[Role.SAFETY_OFFICER], assessment=case, reason="x", password=PASSWORD)
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        susar_unblind_and_decide(actor=pv, assessment=case, reason="", password=PASSWORD)
    assert "reason" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        susar_unblind_and_decide(actor=pv, assessment=case, reason="Potential SUSAR", password="not-the-password")
    assert exc.value.code.value == "reauthentication_failed"
    case.refresh_from_db()
    assert case.status == CaseStatus.POTENTIAL_SUSAR and not Unblinding.objects.exists()  # refused: nothing changed
    case = susar_unblind_and_decide(actor=pv, assessment=case, reason="Potential SUSAR", password=PASSWORD)
    assert list(Unblinding.objects.values_list("kind", "user_id", "participant_id", "reason")) == [
        ("susar", pv.pk, ae.participant.pk, "Potential SUSAR")]
    clock = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_OTHER)
    # The blinded row is closed the same way whichever the arm.
    assert case.status == CaseStatus.CLOSED and clock.closed_at is not None and clock.closed_reason == "Potential SUSAR closed"
    if answer == "active":
        assert case.pv_outcome == PvOutcome.SUSAR
        pv_clock = PvClock.objects.get(adverse_event=ae)
        assert (pv_clock.kind, pv_clock.due_at, pv_clock.continues_id, pv_clock.is_open) == (
            ClockKind.SUSAR_OTHER, clock.due_at, clock.pk, True)
        sub = susar_report_submit(actor=pv, clock=pv_clock, submitted_at=case.sponsor_aware_at + dt.timedelta(days=3),
                                  recipient="EMA EudraVigilance", reference="EU-SUSAR-1")
        pv_clock.refresh_from_db()
        assert pv_clock.met_at == sub.submitted_at and not sub.late
        with pytest.raises(DomainError) as exc:
            susar_report_submit(actor=pv, clock=pv_clock, submitted_at=dt.datetime.now(UTC), recipient="EMA", reference="x")
        assert (exc.value.code.value, exc.value.status) == ("clock_already_met", 409)
        assert not Submission.objects.exists()  # the blinded submissions table is untouched
    else:
        assert case.pv_outcome == PvOutcome.NOT_SUSAR and not PvClock.objects.exists()
    # The blinded history says the same words either way.
    assert case.history.first().history_change_reason == "Potential SUSAR closed"


def _normalise(html: str, ae, participant) -> str:  # noqa: ANN001
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = html.replace(f"#{ae.pk}", "#AE").replace(f"/{ae.pk}/", "/AE/").replace(participant.label, "PARTICIPANT")
    html = html.replace(f"form_id={ae.pk}\"", "form_id=AE\"")  # the link to sign this form
    html = html.replace(f"/participants/{participant.pk}/", "/participants/P/")
    html = re.sub(r"clock-\d+", "clock-N", html)
    html = re.sub(r"/(reports|cases|clocks|adjudications|reviews)/\d+/", r"/\1/N/", html)  # other rows' ids
    html = re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?", "TIME", html)  # when each was entered
    html = re.sub(r'data-seconds="-?\d+"', "", html)
    return re.sub(r">-?\d+ s<", "><", html)


VARYING = {"id", "adverse_event", "participant", "participant_label", "created_at", "updated_at", "submitted_at", "recorded_at",
           "seconds_left", "reference"}


def _scrub(value):  # noqa: ANN001, ANN202
    """An API answer without what differs between two otherwise identical cases (ids, entry times)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def test_counterfactual_blinded_readers_see_the_same_whatever_the_arm(make_ae, randomize, users, api):
    """Two identical cases, one decided 'active' and one 'placebo': every blinded reader's pages
    and API answers are the same once ids are set aside; pharmacovigilance's differ."""
    seen = {}
    # Both cases at the same instant: what the pages draw from "now" (the clock board's timeline)
    # is then the same for both, and only the arm differs.
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False):
        for answer in ("active", "placebo"):
            participant = randomize("MALS", arm=answer)
            ae = make_ae(participant=participant, **SERIOUS)
            Clock.objects.filter(adverse_event=ae, kind=ClockKind.SAE_INITIAL).update(met_at=ae.aware_at)
            case = _assess(users, ae)
            susar_unblind_and_decide(actor=users[Role.PHARMACOVIGILANCE], assessment=case, reason="SUSAR?", password=PASSWORD)
            views = {}
            for role in (Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER, Role.SAFETY_OFFICER):
                client = Client()
                client.force_login(users[role])
                pages = [f"/safety/ae/{ae.pk}/", f"/forms/adverse-events/{ae.pk}/history/", f"/forms/adverse-events/{ae.pk}/"]
                if role == Role.SAFETY_OFFICER:
                    pages.append("/safety/clocks/")
                for url in pages:
                    response = client.get(url)
                    assert response.status_code == 200, (role, url)
                    views[(role, url.replace(str(ae.pk), "AE"))] = _normalise(response.content.decode(), ae, participant)
                body = api(users[role]).get(f"/api/v1/adverse-events/{ae.pk}/").json()
                views[(role, "api")] = {k: v for k, v in body.items() if k not in ("id", "participant", "created_at", "updated_at", "submitted_at")}
                # The safety API: lists (filtered to this AE, and by every state), details, counts.
                urls = [f"/api/v1/sae-reports/?adverse_event={ae.pk}", f"/api/v1/clocks/?adverse_event={ae.pk}"]
                urls += [f"/api/v1/clocks/?adverse_event={ae.pk}&state={s}" for s in ("running", "overdue", "met", "met_late", "closed")]
                urls += [f"/api/v1/clocks/{c.pk}/" for c in Clock.objects.filter(adverse_event=ae).order_by("kind")]
                urls += [f"/api/v1/sae-reports/{r.pk}/" for r in ae.sae_reports.order_by("sequence")]
                urls += [f"/api/v1/adjudications/{ae.adjudication.pk}/", f"/api/v1/adjudications/{ae.adjudication.pk}/review/"]
                for n, url in enumerate(urls):
                    response = api(users[role]).get(url)
                    views[(role, f"api-{n}")] = (response.status_code, _scrub(response.json()))
            pv = Client()
            pv.force_login(users[Role.PHARMACOVIGILANCE])
            views[("pv", "case")] = _normalise(pv.get(f"/safety/cases/{case.pk}/").content.decode(), ae, participant)
            seen[answer] = views
    blinded = [k for k in seen["active"] if k[0] != "pv"]
    for key in blinded:
        assert seen["active"][key] == seen["placebo"][key], key
    assert "Closed" in seen["active"][(Role.SAFETY_OFFICER, "/safety/ae/AE/")]
    assert "SUSAR (reported)" in seen["active"][("pv", "case")] and "Not a SUSAR" in seen["placebo"][("pv", "case")]


def test_a_non_pv_user_asking_for_the_unblinding_step_is_refused_and_audited(make_ae, users, mals):
    case = _assess(users, make_ae(participant=mals, **SERIOUS))
    client = Client()
    client.force_login(users[Role.SAFETY_OFFICER])
    assert client.get(f"/safety/cases/{case.pk}/").status_code == 403
    event = Event.objects.filter(kind="access_denied").last()
    assert event.actor == users[Role.SAFETY_OFFICER] and event.object_id == str(case.pk)


# --- adjudication ---------------------------------------------------------------------------

REVIEW = {"serious": True, "related_iv": True, "related_sc": False, "expected": False, "llt_code": 94000004,
          "special_interest": "bleeding"}


@pytest.fixture
def reviewers(make_user):
    return [make_user(Role.SAFETY_OFFICER) for _ in range(3)]


def test_two_agreeing_reviews_make_the_final_classification(make_ae, reviewers):
    ae = make_ae(**SERIOUS)
    adj = Adjudication.objects.get(adverse_event=ae)
    adjudication_review_submit(actor=reviewers[0], adjudication=adj, data=REVIEW)
    with pytest.raises(DomainError):  # the same reviewer cannot review twice
        adjudication_review_submit(actor=reviewers[0], adjudication=adj, data=REVIEW)
    adjudication_review_submit(actor=reviewers[1], adjudication=adj, data=REVIEW)
    adj.refresh_from_db()
    assert adj.status == AdjudicationStatus.FINAL and adj.final == REVIEW
    assert reviewers[0].username in adj.final_by and reviewers[1].username in adj.final_by


def test_disagreement_goes_to_a_third_reviewer(make_ae, reviewers):
    adj = Adjudication.objects.get(adverse_event=make_ae(**SERIOUS))
    adjudication_review_submit(actor=reviewers[0], adjudication=adj, data=REVIEW)
    adjudication_review_submit(actor=reviewers[1], adjudication=adj, data={**REVIEW, "expected": True})
    adj.refresh_from_db()
    assert adj.status == AdjudicationStatus.THIRD_REVIEW and adj.final is None
    adjudication_review_submit(actor=reviewers[2], adjudication=adj, data={**REVIEW, "expected": True})
    adj.refresh_from_db()
    assert adj.status == AdjudicationStatus.FINAL and adj.final["expected"] is True and "third reviewer" in adj.final_by


def test_bad_review_input_is_refused(make_ae, reviewers):
    adj = Adjudication.objects.get(adverse_event=make_ae(**SERIOUS))
    with pytest.raises(DomainError) as exc:
        adjudication_review_submit(actor=reviewers[0], adjudication=adj, data={**REVIEW, "llt_code": 1})
    assert "llt_code" in exc.value.fields and not adj.reviews.exists()


def test_reviewers_are_blind_to_each_others_pending_review(make_ae, reviewers):
    adj = Adjudication.objects.get(adverse_event=make_ae(**SERIOUS))
    first = adjudication_review_submit(actor=reviewers[0], adjudication=adj, data=REVIEW)
    second = Client()
    second.force_login(reviewers[1])
    page = second.get(f"/safety/adjudication/{adj.pk}/").content.decode()
    assert "Review by" not in page and "Your independent review" in page
    assert "arm" not in page.lower().replace("pharm", "").replace("alarm", "")
    response = second.get(f"/safety/adjudication/{adj.pk}/reviews/{first.pk}/")
    assert response.status_code == 404
    event = Event.objects.filter(kind="access_denied").last()
    assert event.actor == reviewers[1] and event.object_id == str(first.pk)
    own = Client()
    own.force_login(reviewers[0])
    assert own.get(f"/safety/adjudication/{adj.pk}/reviews/{first.pk}/").status_code == 200
    # Once final, the reviews are open to the reviewers.
    adjudication_review_submit(actor=reviewers[1], adjudication=adj, data=REVIEW)
    assert second.get(f"/safety/adjudication/{adj.pk}/reviews/{first.pk}/").status_code == 200


def test_a_change_to_the_source_ae_reopens_adjudication_and_clears_the_final_classification(make_ae, reviewers, users):
    ae = make_ae(**SERIOUS)
    adj = Adjudication.objects.get(adverse_event=ae)
    adjudication_review_submit(actor=reviewers[0], adjudication=adj, data=REVIEW)
    adjudication_review_submit(actor=reviewers[1], adjudication=adj, data=REVIEW)
    ae.refresh_from_db()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Causality revised",
                data={"causality_iv": "unlikely"})
    adj.refresh_from_db()
    assert adj.status == AdjudicationStatus.OPEN and adj.final is None and adj.final_by == "" and adj.round == 2
    record = adj.history.first()
    assert "reopened" in record.history_change_reason and record.history_user == users[Role.INVESTIGATOR]
    assert record.prev_record.final is not None  # the cleared classification stays in the audit trail
    # The earlier reviewers may review again in the new round.
    assert adj in adjudication_queue(reviewers[0])


def test_pharmacovigilance_tracks_and_meets_a_susar_clock_on_its_own_pages(make_ae, users, randomize):
    """A decided SUSAR's clock lives in pharmacovigilance's table: on its board and case page,
    met there by the authority report; blinded readers' board never lists it."""
    pv = users[Role.PHARMACOVIGILANCE]
    ae = make_ae(participant=randomize("MALS", arm="active"), **SERIOUS)
    case = susar_unblind_and_decide(actor=pv, assessment=_assess(users, ae), reason="Potential SUSAR", password=PASSWORD)
    pv_clock = PvClock.objects.get(adverse_event=ae)
    client = Client()
    client.force_login(pv)
    assert f"pv-clock-{pv_clock.pk}" in client.get("/safety/clocks/").content.decode()
    page = client.get(f"/safety/cases/{case.pk}/").content.decode()
    assert f'name="clock" value="{pv_clock.pk}"' in page
    sent = (case.sponsor_aware_at + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/safety/cases/{case.pk}/", {"step": "report", "clock": pv_clock.pk, "submitted_at": sent,
                                                         "recipient": "EMA EudraVigilance", "reference": "EU-SUSAR-2"})
    assert response.status_code == 302
    pv_clock.refresh_from_db()
    assert pv_clock.met_at is not None and PvSubmission.objects.get().clock == pv_clock
    assert "EU-SUSAR-2" in client.get(f"/safety/cases/{case.pk}/").content.decode()
    officer = Client()
    officer.force_login(users[Role.SAFETY_OFFICER])
    assert "pv-clock-" not in officer.get("/safety/clocks/").content.decode()
