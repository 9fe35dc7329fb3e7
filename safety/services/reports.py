"""SAE reports: the site's submission to the sponsor, and the sponsor's request for follow-up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.models import User
from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, require_role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.core.errors import DomainError, ErrorCode, invalid, not_found
from ecrf.crf.guard import assert_writable
from ecrf.crf.models import EntryStatus
from ecrf.notifications.services import notify
from safety.clocks import ClockKind
from safety.errors import SafetyError
from safety.models import AdverseEvent, FollowUpRequest, ReportStatus, SAEReport, Submission
from safety.services.common import ae_snapshot, clock_meet, clock_start, save_audited, snapshot_diff, submission_check

FOLLOWUP_KIND = "safety_followup_request"


def _site_staff_for(actor: User, ae: AdverseEvent) -> None:
    if not user_roles(actor) & SITE_ENTRY_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN, "Only site staff submit SAE reports.")
    if ae.participant.site_id not in member_site_ids(actor):
        raise not_found("SAE report")


@transaction.atomic
def sae_report_submit(*, actor: User, report: SAEReport, version: int | None, submitted_at: dt.datetime | None,
                      recipient: str, reference: str, narrative: str = "") -> Submission:
    report = SAEReport.objects.select_for_update(of=("self",)).select_related("adverse_event__participant__site").get(pk=report.pk)
    ae = report.adverse_event
    _site_staff_for(actor, ae)
    assert_writable(participant=ae.participant)
    if version is None or int(version) != report.version:
        raise DomainError(ErrorCode.STALE_VERSION, "This SAE report changed since you read it; reload it and submit again.")
    if report.status == ReportStatus.SUBMITTED:
        raise DomainError(SafetyError.SAE_REPORT_ALREADY_SUBMITTED, "This SAE report has already been submitted.")
    recipient, reference = submission_check(submitted_at=submitted_at, recipient=recipient, reference=reference,
                                            aware_at=ae.aware_at, aware_label="the investigator became aware")
    assert submitted_at is not None  # checked above
    kind = ClockKind.SAE_FOLLOWUP if report.is_followup else ClockKind.SAE_INITIAL
    clock = ae.clocks.select_for_update().filter(kind=kind, met_at__isnull=True, closed_at__isnull=True).order_by("started_at").first()
    report.status = ReportStatus.SUBMITTED
    report.narrative = narrative or report.narrative
    report.version += 1
    save_audited(report, actor, f"Submitted to {recipient}, reference {reference}")
    late = clock_meet(clock, submitted_at, actor) if clock is not None else False
    submission = Submission(clock=clock, report=report, submitted_at=submitted_at, submitted_by=actor,
                            recipient=recipient, reference=reference, late=late)
    save_audited(submission, actor, "Submission recorded")
    return submission


@transaction.atomic
def followup_request(*, actor: User, ae: AdverseEvent, question: str) -> FollowUpRequest:
    """A safety officer asks the site for follow-up on an SAE (safety.md: the follow-up clock
    starts when "the sponsor asks"). Opens a follow-up report for the site to complete and
    submit (prefilled, showing what changed since the last report), starts the follow-up clock
    (an open one, started by new information, keeps its deadline), and notifies the site's
    investigators and coordinators through the outbox."""
    require_role(actor, {Role.SAFETY_OFFICER}, "ask sites for follow-up")
    ae = AdverseEvent.objects.select_for_update(of=("self",)).select_related("participant__site").get(pk=ae.pk)
    question = (question or "").strip()
    if not question:
        raise invalid("Say what the site should follow up on.", question="Write the question for the site.")
    assert_writable(participant=ae.participant)
    if ae.status != EntryStatus.SUBMITTED or not ae.serious:
        raise DomainError(SafetyError.FOLLOWUP_NEEDS_SUBMITTED_SERIOUS_AE,
                          "Follow-up is requested on submitted serious adverse events only.")
    reports = list(ae.sae_reports.select_for_update().order_by("sequence"))
    if not reports:
        raise DomainError(SafetyError.FOLLOWUP_ON_EXEMPT_EVENT,
                          "This event is exempted from expedited reporting: it has no SAE report to follow up.")
    last = reports[-1]
    if last.sequence == 0 and last.status == ReportStatus.DRAFT:
        raise DomainError(SafetyError.FOLLOWUP_BEFORE_INITIAL_REPORT,
                          "The initial SAE report has not been submitted yet; its 24-hour clock is running.")
    if last.status == ReportStatus.DRAFT:
        report = last  # a follow-up already open (new information): the request joins it
    else:
        current = ae_snapshot(ae)
        report = SAEReport(adverse_event=ae, sequence=last.sequence + 1, snapshot=current,
                           changes=snapshot_diff(last.snapshot, current))
        save_audited(report, actor, "Follow-up SAE report: requested by the sponsor")
    clock = (ae.clocks.select_for_update().filter(kind=ClockKind.SAE_FOLLOWUP, met_at__isnull=True, closed_at__isnull=True)
             .order_by("started_at", "pk").first())
    if clock is None:
        clock = clock_start(ae=ae, kind=ClockKind.SAE_FOLLOWUP, started_at=timezone.now(), actor=actor,
                            reason="The sponsor asked for follow-up")
    req = FollowUpRequest(adverse_event=ae, question=question, requested_by=actor, report=report, clock=clock)
    save_audited(req, actor, "Follow-up requested")
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
