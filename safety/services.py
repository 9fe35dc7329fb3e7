"""Every safety write: SAE reports, clocks, submissions, the expedited-reporting decision,
adjudication and the clock job (DESIGN.md "Inside an app": services)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.models import User
from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, require_role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, ErrorCode, invalid, not_found
from ecrf.crf.guard import assert_writable
from ecrf.crf.models import EntryStatus
from ecrf.notifications.services import Outbox, notify, notify_many
from ecrf.study.services import current_protocol, current_study
from safety import clocks as clockmath
from safety import links
from safety.clocks import ClockKind, Threshold
from safety.models import (
    CAUSALITY_RANK,
    RELATED,
    Adjudication,
    AdjudicationReview,
    AdjudicationStatus,
    AdverseEvent,
    CaseStatus,
    Causality,
    Clock,
    ClockVisibility,
    ExpeditedAssessment,
    FollowUpRequest,
    PvOutcome,
    ReportStatus,
    SAEReport,
    SpecialInterest,
    Submission,
)

SUSAR_KINDS = (ClockKind.SUSAR_FATAL, ClockKind.SUSAR_FATAL_FOLLOWUP, ClockKind.SUSAR_OTHER, ClockKind.SUSAR_BECAME_FATAL)
# What a follow-up report shows as changed: the clinically significant fields of the AE.
REPORTED_FIELDS = (
    "verbatim_term", "llt_code", "pt_name", "onset_date", "end_date", "grade", "serious", "serious_death",
    "serious_life_threatening", "serious_hospitalisation", "serious_disability", "serious_congenital_anomaly",
    "serious_important_medical_event", "outcome", "action_iv", "action_sc", "causality_iv", "causality_sc",
    "aware_at", "anemia", "hb_nadir_g_dl", "transfusion_units", "bleeding", "bleeding_site", "bleeding_severity",
    "bleeding_intervention",
)


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def ae_snapshot(ae: AdverseEvent) -> dict[str, Any]:
    return {name: _json(getattr(ae, name)) for name in REPORTED_FIELDS}


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _save(obj: Any, actor: Any, reason: str) -> None:
    obj._history_user = _user(actor)
    obj._change_reason = reason
    obj.save()


# --- clocks -----------------------------------------------------------------------------------


def clock_start(*, ae: AdverseEvent, kind: ClockKind, started_at: dt.datetime, actor: Any,
                visibility: str = ClockVisibility.OPEN, reason: str = "") -> Clock:
    """Start a reporting clock; its deadline is computed here (safety.md "Deadlines")."""
    protocol = current_protocol()
    due = clockmath.due_at(kind, started_at, protocol=protocol)
    soon = clockmath.due_soon_at(started_at=started_at, due_at=due, due_soon_fraction=protocol.clock_due_soon_fraction)
    clock = Clock(adverse_event=ae, kind=kind, visibility=visibility, started_at=started_at, due_at=due, due_soon_at=soon)
    _save(clock, actor, reason or f"{kind.value} clock started")
    return clock


def _meet(clock: Clock, submitted_at: dt.datetime, actor: Any) -> bool:
    """Record the report on its clock; a late report is accepted and stays marked late."""
    late = submitted_at >= clock.due_at
    if clock.met_at is None:
        clock.met_at = submitted_at
        _save(clock, actor, "Report submitted late" if late else "Report submitted")
    return late


def _close_clocks(clocks: Any, actor: Any, reason: str) -> None:
    now = timezone.now()
    for clock in clocks:
        if clock.is_open:
            clock.closed_at = now
            clock.closed_reason = reason
            _save(clock, actor, reason)


# --- the AE's consequences (its write listener, inside the form's transaction) ------------------


def adverse_event_changed(*, ae: AdverseEvent, actor: Any) -> None:
    """What a saved AE sets in motion: its SAE report and 24-hour clock when it is (or becomes)
    serious, a follow-up report and clock on new information, the 7-day clock when a potential
    SUSAR becomes fatal or life-threatening, and the reopening of its adjudication."""
    ae = AdverseEvent.objects.select_related("participant__site").get(pk=ae.pk)
    if ae.status == EntryStatus.RETRACTED:
        _close_clocks(ae.clocks.select_for_update().order_by("pk"), actor, "Adverse event retracted")
    elif ae.status == EntryStatus.SUBMITTED and ae.serious:
        _sae_follow_through(ae, actor)
    if ae.status == EntryStatus.SUBMITTED and (ae.serious or ae.anemia or ae.bleeding):
        _adjudication_sync(ae, actor)
    elif hasattr(ae, "adjudication"):
        _adjudication_sync(ae, actor)


def _sae_follow_through(ae: AdverseEvent, actor: Any) -> None:
    reports = list(ae.sae_reports.select_for_update().order_by("sequence"))
    if not reports:
        if ae.is_exempt:
            return  # CTR Art. 41(2): recorded, exemption visible, no 24-hour report or clock.
        report = SAEReport(adverse_event=ae, sequence=0, snapshot=ae_snapshot(ae))
        _save(report, actor, "Initial SAE report prefilled from the adverse event")
        clock_start(ae=ae, kind=ClockKind.SAE_INITIAL, started_at=ae.aware_at, actor=actor,
                    reason="The investigator became aware of a serious adverse event")
    else:
        last = reports[-1]
        current = ae_snapshot(ae)
        if last.status == ReportStatus.DRAFT:
            # Not yet sent: keep the draft in step with the AE.
            previous = reports[-2].snapshot if len(reports) > 1 else {}
            last.snapshot = current
            last.changes = _diff(previous, current) if previous else {}
            last.version += 1
            _save(last, actor, "Draft report updated from the adverse event")
        elif _diff(last.snapshot, current):
            report = SAEReport(adverse_event=ae, sequence=last.sequence + 1, snapshot=current,
                               changes=_diff(last.snapshot, current))
            _save(report, actor, "Follow-up SAE report: new information")
            if not ae.clocks.filter(kind=ClockKind.SAE_FOLLOWUP, met_at__isnull=True, closed_at__isnull=True).exists():
                clock_start(ae=ae, kind=ClockKind.SAE_FOLLOWUP, started_at=timezone.now(), actor=actor,
                            reason="New significant information on a serious adverse event")
    _susar_became_fatal(ae, actor)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"old": old.get(k), "new": v} for k, v in new.items() if old.get(k) != v}


def _susar_became_fatal(ae: AdverseEvent, actor: Any) -> None:
    """CTR Art. 42(2): a (potential) SUSAR that becomes fatal or life-threatening gets a new
    7-day clock from when the sponsor learns it."""
    assessment = ExpeditedAssessment.objects.filter(adverse_event=ae).first()
    if assessment is None or not ae.fatal_or_life_threatening:
        return
    if assessment.status == CaseStatus.NOT_CANDIDATE or assessment.pv_outcome == PvOutcome.NOT_SUSAR:
        return
    if ae.clocks.filter(kind__in=[ClockKind.SUSAR_FATAL, ClockKind.SUSAR_BECAME_FATAL]).exists():
        return
    # Undecided: still blinded for everyone (masked). Decided as a SUSAR: the clock exists only
    # because of the arm, so pharmacovigilance alone sees it.
    visibility = ClockVisibility.PV_ONLY if assessment.pv_outcome == PvOutcome.SUSAR else ClockVisibility.MASKED
    clock_start(ae=ae, kind=ClockKind.SUSAR_BECAME_FATAL, started_at=timezone.now(), actor=actor, visibility=visibility,
                reason="The potential SUSAR became fatal or life-threatening")


def ae_death_recheck(*, participant: Any, actor: Any) -> int:
    """Re-derive the soft check against the Death form of the participant's AEs (called when
    their Death form is saved, inside its transaction). Audited as a history entry of each AE
    whose check changed, without a new version (so no follow-up report or adjudication
    reopening: the AE itself did not change). Returns how many changed."""
    from safety.specs import death_check, death_date

    died = death_date(participant)
    changed = 0
    for ae in (AdverseEvent.objects.select_for_update().filter(participant_id=participant.pk)
               .exclude(status=EntryStatus.RETRACTED).order_by("pk")):
        check = death_check(ae, died)
        if check != ae.death_check:
            ae.death_check = check
            _save(ae, actor, "Check against the Death form re-derived")
            changed += 1
    return changed


# --- SAE report submission (site -> sponsor) --------------------------------------------------


def _site_staff_for(actor: Any, ae: AdverseEvent) -> None:
    if not user_roles(actor) & SITE_ENTRY_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN, "Only site staff submit SAE reports.")
    if ae.participant.site_id not in member_site_ids(actor):
        raise not_found("SAE report")


def _check_submission(*, submitted_at: Any, recipient: str, reference: str, aware_at: dt.datetime, aware_label: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    recipient, reference = (recipient or "").strip(), (reference or "").strip()
    if submitted_at is None:
        errors["submitted_at"] = "Give the time the report was sent."
    elif submitted_at.tzinfo is None:
        errors["submitted_at"] = "Give the time with its time zone."
    elif submitted_at < aware_at:
        errors["submitted_at"] = f"The submission time is before {aware_label}; check both times."
    elif submitted_at > timezone.now() + dt.timedelta(minutes=5):
        errors["submitted_at"] = "The submission time is in the future."
    if not recipient:
        errors["recipient"] = "Say to whom the report was sent."
    if not reference:
        errors["reference"] = "Give the report's reference (e.g. the sponsor's case number)."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    return recipient, reference


@transaction.atomic
def sae_report_submit(*, actor: Any, report: SAEReport, version: int | None, submitted_at: dt.datetime | None,
                      recipient: str, reference: str, narrative: str = "") -> Submission:
    report = SAEReport.objects.select_for_update().select_related("adverse_event__participant__site").get(pk=report.pk)
    ae = report.adverse_event
    _site_staff_for(actor, ae)
    assert_writable(participant=ae.participant)
    if version is None or int(version) != report.version:
        raise DomainError(ErrorCode.STALE_VERSION, "This SAE report changed since you read it; reload it and submit again.")
    if report.status == ReportStatus.SUBMITTED:
        raise DomainError(ErrorCode.STATE_CONFLICT, "This SAE report has already been submitted.")
    recipient, reference = _check_submission(submitted_at=submitted_at, recipient=recipient, reference=reference,
                                             aware_at=ae.aware_at, aware_label="the investigator became aware")
    kind = ClockKind.SAE_FOLLOWUP if report.is_followup else ClockKind.SAE_INITIAL
    clock = ae.clocks.select_for_update().filter(kind=kind, met_at__isnull=True, closed_at__isnull=True).order_by("started_at").first()
    report.status = ReportStatus.SUBMITTED
    report.narrative = narrative or report.narrative
    report.version += 1
    _save(report, actor, f"Submitted to {recipient}, reference {reference}")
    late = _meet(clock, submitted_at, actor) if clock is not None else False
    submission = Submission(clock=clock, report=report, submitted_at=submitted_at, submitted_by=actor,
                            recipient=recipient, reference=reference, late=late)
    _save(submission, actor, "Submission recorded")
    return submission


# --- follow-up on request (sponsor -> site) ---------------------------------------------------

FOLLOWUP_KIND = "safety_followup_request"


@transaction.atomic
def followup_request(*, actor: Any, ae: AdverseEvent, question: str) -> FollowUpRequest:
    """A safety officer asks the site for follow-up on an SAE (safety.md: the follow-up clock
    starts when "the sponsor asks"). Opens a follow-up report for the site to complete and
    submit (prefilled, showing what changed since the last report), starts the follow-up clock
    (an open one, started by new information, keeps its deadline), and notifies the site's
    investigators and coordinators through the outbox."""
    require_role(actor, {Role.SAFETY_OFFICER}, "ask sites for follow-up")
    ae = AdverseEvent.objects.select_for_update().select_related("participant__site").get(pk=ae.pk)
    question = (question or "").strip()
    if not question:
        raise invalid("Say what the site should follow up on.", question="Write the question for the site.")
    assert_writable(participant=ae.participant)
    if ae.status != EntryStatus.SUBMITTED or not ae.serious:
        raise DomainError(ErrorCode.STATE_CONFLICT, "Follow-up is requested on submitted serious adverse events only.")
    reports = list(ae.sae_reports.select_for_update().order_by("sequence"))
    if not reports:
        raise DomainError(ErrorCode.STATE_CONFLICT,
                          "This event is exempted from expedited reporting: it has no SAE report to follow up.")
    last = reports[-1]
    if last.sequence == 0 and last.status == ReportStatus.DRAFT:
        raise DomainError(ErrorCode.STATE_CONFLICT,
                          "The initial SAE report has not been submitted yet; its 24-hour clock is running.")
    if last.status == ReportStatus.DRAFT:
        report = last  # a follow-up already open (new information): the request joins it
    else:
        current = ae_snapshot(ae)
        report = SAEReport(adverse_event=ae, sequence=last.sequence + 1, snapshot=current, changes=_diff(last.snapshot, current))
        _save(report, actor, "Follow-up SAE report: requested by the sponsor")
    clock = (ae.clocks.select_for_update().filter(kind=ClockKind.SAE_FOLLOWUP, met_at__isnull=True, closed_at__isnull=True)
             .order_by("started_at", "pk").first())
    if clock is None:
        clock = clock_start(ae=ae, kind=ClockKind.SAE_FOLLOWUP, started_at=timezone.now(), actor=actor,
                            reason="The sponsor asked for follow-up")
    req = FollowUpRequest(adverse_event=ae, question=question, requested_by=actor, report=report, clock=clock)
    _save(req, actor, "Follow-up requested")
    site = ae.participant.site
    staff = (User.objects.filter(is_active=True, groups__name__in=list(SITE_ENTRY_ROLES), sites=site.pk)
             .distinct().order_by("pk"))
    due = timezone.localtime(clock.due_at, ZoneInfo(site.time_zone)).strftime("%Y-%m-%d %H:%M %Z")
    notify(recipients=list(staff), kind=FOLLOWUP_KIND, source=f"safety.followuprequest:{req.pk}",
           subject=f"Follow-up requested: {ae.participant.label}, AE #{ae.pk}, due {due}",
           body=(f"The sponsor's safety officer asks for follow-up on adverse event #{ae.pk} ({ae.verbatim_term}) of "
                 f"participant {ae.participant.label}: {question}\nComplete and submit follow-up report {report.sequence} "
                 f"by {due}."),
           link=reverse("safety:ae-detail", kwargs={"pk": ae.pk}))
    return req


# --- the expedited-reporting decision -----------------------------------------------------------


def _check_upgrade(field: str, investigator: str, sponsor: str, route: str) -> None:
    """safety.md: the sponsor may upgrade, never downgrade, the investigator's causality."""
    if sponsor and investigator and CAUSALITY_RANK[Causality(sponsor)] < CAUSALITY_RANK[Causality(investigator)]:
        raise DomainError(
            ErrorCode.INVALID,
            f"The sponsor may upgrade but never downgrade the investigator's causality to the {route} study drug "
            f"({Causality(investigator).label}).",
            fields={field: f"Cannot be weaker than the investigator's '{Causality(investigator).label}'."},
        )


@transaction.atomic
def assessment_record(*, actor: Any, ae: AdverseEvent, expected: bool | None, rsi_reference: str,
                      sponsor_aware_at: dt.datetime | None, sponsor_causality_iv: str = "",
                      sponsor_causality_sc: str = "") -> ExpeditedAssessment:
    """Step 2-3: the blinded expectedness assessment; a related and unexpected case becomes a
    potential SUSAR and its 7- or 15-day clock starts from the recorded sponsor awareness."""
    require_role(actor, {Role.SAFETY_OFFICER}, "assess expectedness")
    ae = AdverseEvent.objects.select_for_update().select_related("participant__site").get(pk=ae.pk)
    if ae.status != EntryStatus.SUBMITTED or not ae.serious:
        raise DomainError(ErrorCode.STATE_CONFLICT, "Expectedness is assessed for submitted serious adverse events only.")
    existing = ExpeditedAssessment.objects.select_for_update().filter(adverse_event=ae).first()
    if existing is not None:
        raise DomainError(ErrorCode.STATE_CONFLICT, "This event has already been assessed.")
    errors: dict[str, str] = {}
    for name, value in (("sponsor_causality_iv", sponsor_causality_iv), ("sponsor_causality_sc", sponsor_causality_sc)):
        if value and value not in Causality.values:
            errors[name] = f"{value!r} is not a WHO-UMC category."
    if expected is None:
        errors["expected"] = "Say whether the event is expected under the reference safety information."
    if not (rsi_reference or "").strip():
        errors["rsi_reference"] = "Name the reference safety information used (document and version)."
    if sponsor_aware_at is None:
        errors["sponsor_aware_at"] = "Give the time the sponsor became aware."
    elif sponsor_aware_at < ae.aware_at:
        errors["sponsor_aware_at"] = "The sponsor cannot become aware before the investigator did."
    elif sponsor_aware_at > timezone.now() + dt.timedelta(minutes=5):
        errors["sponsor_aware_at"] = "The sponsor awareness is in the future."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    _check_upgrade("sponsor_causality_iv", ae.causality_iv, sponsor_causality_iv, "IV")
    _check_upgrade("sponsor_causality_sc", ae.causality_sc, sponsor_causality_sc, "SC")
    product = links.possible_product(ae.participant)
    if product is None:
        raise DomainError(ErrorCode.STATE_CONFLICT,
                          "The participant's phenotype is not known, so the product to assess against cannot be named.")
    name, route = product
    investigator = ae.causality_iv if route == "iv" else ae.causality_sc
    sponsor = sponsor_causality_iv if route == "iv" else sponsor_causality_sc
    related = investigator in RELATED or sponsor in RELATED
    potential = related and not expected
    assessment = ExpeditedAssessment(
        adverse_event=ae, product=name, route=route, sponsor_causality_iv=sponsor_causality_iv,
        sponsor_causality_sc=sponsor_causality_sc, related=related, expected=bool(expected),
        rsi_reference=rsi_reference.strip(), sponsor_aware_at=sponsor_aware_at, assessed_by=actor,
        status=CaseStatus.POTENTIAL_SUSAR if potential else CaseStatus.NOT_CANDIDATE,
    )
    _save(assessment, actor, "Expectedness assessed (blinded)")
    if potential:
        if ae.fatal_or_life_threatening:
            clock_start(ae=ae, kind=ClockKind.SUSAR_FATAL, started_at=sponsor_aware_at, actor=actor,
                        visibility=ClockVisibility.MASKED, reason="Potential SUSAR (fatal or life-threatening)")
            clock_start(ae=ae, kind=ClockKind.SUSAR_FATAL_FOLLOWUP, started_at=sponsor_aware_at, actor=actor,
                        visibility=ClockVisibility.MASKED, reason="Potential SUSAR follow-up")
        else:
            clock_start(ae=ae, kind=ClockKind.SUSAR_OTHER, started_at=sponsor_aware_at, actor=actor,
                        visibility=ClockVisibility.MASKED, reason="Potential SUSAR")
    return assessment


@transaction.atomic
def susar_unblind_and_decide(*, actor: Any, assessment: ExpeditedAssessment, reason: str, password: str,
                             request: Any = None) -> ExpeditedAssessment:
    """Step 3: pharmacovigilance unblinds this one case (re-authenticated, reasoned, audited by
    ``reveal_for_susar``): active -> a SUSAR, to report; placebo -> closed, not a SUSAR.
    Blinded readers see "closed" either way, from this moment."""
    require_role(actor, {Role.PHARMACOVIGILANCE}, "unblind a potential SUSAR")
    assessment = ExpeditedAssessment.objects.select_for_update().select_related("adverse_event__participant").get(pk=assessment.pk)
    if assessment.status != CaseStatus.POTENTIAL_SUSAR:
        raise DomainError(ErrorCode.STATE_CONFLICT, "Only an open potential SUSAR is unblinded and decided.")
    reason = (reason or "").strip()
    if not reason:
        raise invalid("Give the reason for unblinding this case.", reason="A reason is required.")
    arm = links.reveal_for_susar(actor=actor, participant=assessment.adverse_event.participant, reason=reason,
                                 password=password, request=request)
    if arm not in ("active", "placebo"):
        raise DomainError(ErrorCode.STATE_CONFLICT, "The unblinding service gave no usable answer.")
    assessment.pv_outcome = PvOutcome.SUSAR if arm == "active" else PvOutcome.NOT_SUSAR
    assessment.status = CaseStatus.CLOSED
    assessment.decided_by = actor
    assessment.decided_at = timezone.now()
    assessment.version += 1
    _save(assessment, actor, "Potential SUSAR closed")  # the same words either way (history is blinded)
    if assessment.pv_outcome == PvOutcome.NOT_SUSAR:
        clocks = assessment.adverse_event.clocks.select_for_update().filter(kind__in=SUSAR_KINDS).order_by("pk")
        _close_clocks(clocks, actor, "Potential SUSAR closed")
    return assessment


@transaction.atomic
def susar_report_submit(*, actor: Any, clock: Clock, submitted_at: dt.datetime | None, recipient: str,
                        reference: str) -> Submission:
    """Pharmacovigilance records the SUSAR report sent to the authority; meets its clock."""
    require_role(actor, {Role.PHARMACOVIGILANCE}, "report SUSARs")
    clock = Clock.objects.select_for_update().select_related("adverse_event").get(pk=clock.pk)
    assessment = ExpeditedAssessment.objects.filter(adverse_event=clock.adverse_event).first()
    if clock.kind not in SUSAR_KINDS or assessment is None or assessment.pv_outcome != PvOutcome.SUSAR:
        raise DomainError(ErrorCode.STATE_CONFLICT, "Only a decided SUSAR's clock is met by an authority report.")
    if not clock.is_open:
        raise DomainError(ErrorCode.STATE_CONFLICT, "This clock is already met.")
    recipient, reference = _check_submission(submitted_at=submitted_at, recipient=recipient, reference=reference,
                                             aware_at=clock.started_at, aware_label="the sponsor became aware")
    late = _meet(clock, submitted_at, actor)
    submission = Submission(clock=clock, submitted_at=submitted_at, submitted_by=actor, recipient=recipient,
                            reference=reference, late=late)
    _save(submission, actor, "SUSAR report recorded")
    return submission


# --- adjudication -----------------------------------------------------------------------------


def _adjudication_sync(ae: AdverseEvent, actor: Any) -> None:
    """Create the adjudication of a submitted serious or special-interest AE; a later change to
    the AE reopens it and clears the final classification (safety.md "Adjudication")."""
    adj = Adjudication.objects.select_for_update().filter(adverse_event=ae).first()
    if adj is None:
        if ae.status == EntryStatus.SUBMITTED:
            adj = Adjudication(adverse_event=ae, source_version=ae.version)
            _save(adj, actor, "Queued for adjudication")
        return
    if adj.source_version == ae.version:
        return
    previous = adj.source_version
    adj.source_version = ae.version
    if adj.final is not None or adj.reviews.filter(round=adj.round).exists():
        adj.round += 1
        adj.status = AdjudicationStatus.OPEN
        adj.final = None
        adj.final_by = ""
        adj.final_at = None
        adj.version += 1
        _save(adj, actor, f"Source adverse event changed (version {previous} -> {ae.version}): adjudication reopened, "
                          "final classification cleared")
    else:
        _save(adj, actor, f"Source adverse event changed (version {previous} -> {ae.version})")


REVIEW_FIELDS = ("serious", "related_iv", "related_sc", "expected", "llt_code", "special_interest")


@transaction.atomic
def adjudication_review_submit(*, actor: Any, adjudication: Adjudication, data: dict[str, Any]) -> AdjudicationReview:
    """One reviewer's independent classification. Two that agree make the final one; a
    disagreement goes to a third reviewer (or the committee), whose review decides."""
    from safety.meddra import coding_for

    require_role(actor, {Role.SAFETY_OFFICER}, "adjudicate")
    adj = Adjudication.objects.select_for_update().get(pk=adjudication.pk)
    if adj.status == AdjudicationStatus.FINAL:
        raise DomainError(ErrorCode.STATE_CONFLICT, "This adjudication is final.")
    reviews = list(adj.reviews.filter(round=adj.round))
    if any(r.reviewer_id == actor.pk for r in reviews):
        raise DomainError(ErrorCode.STATE_CONFLICT, "You have already reviewed this event; another reviewer completes it.")
    errors: dict[str, str] = {}
    for name in ("serious", "related_iv", "related_sc", "expected"):
        if not isinstance(data.get(name), bool):
            errors[name] = "Answer yes or no."
    llt = data.get("llt_code")
    if not isinstance(llt, int) or coding_for(llt) is None:
        errors["llt_code"] = "Give the final coded term as a lowest level term code of the dictionary."
    if data.get("special_interest") not in SpecialInterest.values:
        errors["special_interest"] = "Choose none, anemia or bleeding."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    tiebreak = adj.status == AdjudicationStatus.THIRD_REVIEW
    review = AdjudicationReview(adjudication=adj, round=adj.round, reviewer=actor, tiebreak=tiebreak,
                                comment=(data.get("comment") or "").strip(), **{k: data[k] for k in REVIEW_FIELDS})
    _save(review, actor, "Tie-break review" if tiebreak else "Independent review")
    if tiebreak:
        _finalize(adj, review.classification(), f"third reviewer {actor.get_username()}", actor)
    elif len(reviews) == 1:
        first = reviews[0]
        if first.classification() == review.classification():
            _finalize(adj, review.classification(),
                      f"agreement of {first.reviewer.get_username()} and {actor.get_username()}", actor)
        else:
            adj.status = AdjudicationStatus.THIRD_REVIEW
            adj.version += 1
            _save(adj, actor, "Reviewers disagree: third reviewer or committee")
    return review


def _finalize(adj: Adjudication, classification: dict[str, Any], by: str, actor: Any) -> None:
    adj.status = AdjudicationStatus.FINAL
    adj.final = classification
    adj.final_by = by
    adj.final_at = timezone.now()
    adj.version += 1
    _save(adj, actor, f"Final classification by {by}")


def review_access_denied(*, actor: Any, review_id: int, request: Any = None) -> DomainError:
    """A reviewer asked for another reviewer's pending review: audited, and the same 404 as
    for a review that does not exist."""
    event_record(kind=EventKind.ACCESS_DENIED, actor=actor, request=request, object_type="safety.adjudicationreview",
                 object_id=str(review_id), what="another reviewer's pending review")
    return not_found("review")


# --- the clock job ------------------------------------------------------------------------------

CLOCK_LABELS = {
    ClockKind.SAE_INITIAL: "SAE initial report (24 h)",
    ClockKind.SAE_FOLLOWUP: "SAE follow-up report",
    ClockKind.SUSAR_FATAL: "Potential SUSAR 7-day report",
    ClockKind.SUSAR_FATAL_FOLLOWUP: "Potential SUSAR follow-up (8 more days)",
    ClockKind.SUSAR_OTHER: "Potential SUSAR 15-day report",
    ClockKind.SUSAR_BECAME_FATAL: "Potential SUSAR became fatal: 7-day report",
}
NOTIFICATION_KIND = "safety_clock"


def _recipients() -> dict[str, Any]:
    """Who is notified, in a fixed number of queries whatever the number of clocks."""
    through = User.groups.through
    pairs = list(through.objects.filter(user__is_active=True, group__name__in=[
        Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE, Role.INVESTIGATOR, Role.COORDINATOR,
    ]).values_list("user_id", "group__name"))
    by_role: dict[str, set[int]] = defaultdict(set)
    for user_id, group in pairs:
        by_role[group].add(user_id)
    site_staff = by_role[Role.INVESTIGATOR] | by_role[Role.COORDINATOR]
    staff_by_site: dict[int, set[int]] = defaultdict(set)
    for user_id, site_id in User.sites.through.objects.filter(user_id__in=site_staff).values_list("user_id", "site_id"):
        staff_by_site[site_id].add(user_id)
    leads = set(User.objects.filter(is_active=True, is_lead_safety_officer=True).values_list("pk", flat=True))
    study = current_study()
    email = study.safety_contact_email if study else ""
    contact = None
    if email:
        contact = User.objects.filter(is_active=True, email__iexact=email).order_by("pk").values_list("pk", flat=True).first()
    escalation = ", ".join(filter(None, [
        f"lead safety officer(s) {sorted(leads)}" if leads else "no lead safety officer configured",
        (f"sponsor safety contact {email} (user {contact})" if contact else f"sponsor safety contact {email} (no user account: not notified)")
        if email else "no sponsor safety contact configured",
    ]))
    return {"safety": by_role[Role.SAFETY_OFFICER], "pv": by_role[Role.PHARMACOVIGILANCE], "site": staff_by_site,
            "leads": leads, "contact": contact, "escalation": escalation}


def _message(clock: Clock, threshold: Threshold, tz: Any) -> tuple[str, str]:
    """Subject and body: participant, AE and deadline; never the arm or the product."""
    ae = clock.adverse_event
    due_local = clock.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    what = CLOCK_LABELS[ClockKind(clock.kind)]
    state = "due soon" if threshold == Threshold.DUE_SOON else "OVERDUE"
    subject = f"{what} {state}: {ae.participant.label}, AE #{ae.pk}, due {due_local}"
    body = (f"{what} for adverse event #{ae.pk} ({ae.verbatim_term}) of participant {ae.participant.label} "
            f"at site {ae.participant.site.code} is {state}; due {due_local}.")
    return subject[:200], body


@transaction.atomic
def clocks_evaluate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The clock job: notify each clock that has become due soon or overdue, once per clock and
    threshold (the outbox's unique key; rows locked with SKIP LOCKED so overlapping runs split
    the work), escalating overdue clocks to the lead safety officer and the sponsor's safety
    contact. SUSAR clocks notify pharmacovigilance only: their outcome would reveal the arm.
    A run after downtime catches up every threshold crossed meanwhile. Fixed query count."""
    from zoneinfo import ZoneInfo

    now = now or timezone.now()
    candidates = Clock.objects.filter(met_at__isnull=True, closed_at__isnull=True).filter(
        Q(due_soon_at__lte=now, due_soon_notified_at__isnull=True, due_soon_at__lt=F("due_at"))
        | Q(due_at__lte=now, overdue_notified_at__isnull=True)
    ).select_related("adverse_event__participant__site").order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True, of=("self",))
    clocks = list(candidates)
    if not clocks:
        return {"clocks": 0, "notifications": 0}
    who = _recipients()
    tz = ZoneInfo(current_protocol().sponsor_time_zone)
    link = reverse("safety:clock-board")
    rows: list[Outbox] = []
    soon_ids: list[int] = []
    overdue_ids: list[int] = []
    for clock in clocks:
        crossed = []
        if clock.due_soon_notified_at is None and clock.due_soon_at <= now and clock.due_soon_at < clock.due_at:
            crossed.append(Threshold.DUE_SOON)
            soon_ids.append(clock.pk)
        if clock.overdue_notified_at is None and clock.due_at <= now:
            crossed.append(Threshold.OVERDUE)
            overdue_ids.append(clock.pk)
        for threshold in crossed:
            subject, body = _message(clock, threshold, tz)
            source = f"safety.clock:{clock.pk}"
            if clock.is_susar:
                users = set(who["pv"])
            else:
                users = who["safety"] | who["site"].get(clock.adverse_event.participant.site_id, set())
                if threshold == Threshold.OVERDUE:
                    users |= who["leads"] | ({who["contact"]} if who["contact"] else set())
            rows.extend(Outbox(uid, NOTIFICATION_KIND, source, threshold.value, subject, body, link) for uid in sorted(users))
    notify_many(rows)
    if soon_ids:
        Clock.objects.filter(pk__in=soon_ids).update(due_soon_notified_at=now)
    if overdue_ids:
        overdue_set = set(overdue_ids)
        sae_overdue = [c.pk for c in clocks if c.pk in overdue_set and not c.is_susar]
        Clock.objects.filter(pk__in=overdue_ids).update(overdue_notified_at=now)
        if sae_overdue:
            Clock.objects.filter(pk__in=sae_overdue).update(escalation=f"{now.isoformat()}: escalated to {who['escalation']}")
    return {"clocks": len(clocks), "notifications": len(rows)}
