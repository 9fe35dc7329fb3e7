"""What a saved adverse event sets in motion (its write listener, inside the form's transaction):
the SAE report and its clocks, the clock of a SUSAR that became fatal, the adjudication; and the
soft check against the Death form when that form is saved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from ecrf.crf.guard import assert_writable
from ecrf.crf.models import EntryStatus, Participant
from safety import derivation, rules
from safety.clocks import ClockKind
from safety.models import AdverseEvent, CaseStatus, ClockVisibility, ExpeditedAssessment, PvOutcome, ReportStatus, SAEReport
from safety.services.adjudication import adjudication_sync
from safety.services.common import ae_snapshot, clock_start, clocks_close, pv_clock_start, save_audited, snapshot_diff

if TYPE_CHECKING:
    from ecrf.accounts.models import User

BECAME_FATAL_KINDS = (ClockKind.SUSAR_FATAL, ClockKind.SUSAR_BECAME_FATAL)


def adverse_event_changed(*, ae: AdverseEvent, actor: User | None) -> None:
    """What a saved AE sets in motion: its SAE report and 24-hour clock when it is (or becomes)
    serious, a follow-up report and clock on new information, the 7-day clock when a potential
    SUSAR becomes fatal or life-threatening, and the reopening of its adjudication.

    Called only by the AE's write listener (``safety.listeners``), inside the form services'
    transaction and after their write guard: under a freeze or lock the AE write is refused
    before this runs, so nothing here changes locked data."""
    ae = AdverseEvent.objects.select_related("participant__site").get(pk=ae.pk)
    if ae.status == EntryStatus.RETRACTED:
        clocks_close(ae.clocks.select_for_update().order_by("pk"), actor, "Adverse event retracted")
        clocks_close(ae.pv_clocks.select_for_update().order_by("pk"), actor, "Adverse event retracted")
    elif ae.status == EntryStatus.SUBMITTED and ae.serious:
        _sae_follow_through(ae, actor)
    if ae.status == EntryStatus.SUBMITTED and (ae.serious or ae.anemia or ae.bleeding):
        adjudication_sync(ae, actor)
    elif hasattr(ae, "adjudication"):
        adjudication_sync(ae, actor)


def _sae_follow_through(ae: AdverseEvent, actor: User | None) -> None:
    reports = list(ae.sae_reports.select_for_update().order_by("sequence"))
    if not reports:
        if ae.is_exempt:
            return  # CTR Art. 41(2): recorded, exemption visible, no 24-hour report or clock.
        report = SAEReport(adverse_event=ae, sequence=0, snapshot=ae_snapshot(ae))
        save_audited(report, actor, "Initial SAE report prefilled from the adverse event")
        clock_start(ae=ae, kind=ClockKind.SAE_INITIAL, started_at=ae.aware_at, actor=actor,
                    reason="The investigator became aware of a serious adverse event")
    else:
        last = reports[-1]
        current = ae_snapshot(ae)
        if last.status == ReportStatus.DRAFT:
            # Not yet sent: keep the draft in step with the AE.
            previous = reports[-2].snapshot if len(reports) > 1 else {}
            last.snapshot = current
            last.changes = snapshot_diff(previous, current) if previous else {}
            last.version += 1
            save_audited(last, actor, "Draft report updated from the adverse event")
        elif snapshot_diff(last.snapshot, current):
            report = SAEReport(adverse_event=ae, sequence=last.sequence + 1, snapshot=current,
                               changes=snapshot_diff(last.snapshot, current))
            save_audited(report, actor, "Follow-up SAE report: new information")
            if not ae.clocks.filter(kind=ClockKind.SAE_FOLLOWUP, met_at__isnull=True, closed_at__isnull=True).exists():
                clock_start(ae=ae, kind=ClockKind.SAE_FOLLOWUP, started_at=timezone.now(), actor=actor,
                            reason="New significant information on a serious adverse event")
    _susar_became_fatal(ae, actor)


def _susar_became_fatal(ae: AdverseEvent, actor: User | None) -> None:
    """CTR Art. 42(2): a (potential) SUSAR that becomes fatal or life-threatening gets a new
    7-day clock from when the sponsor learns it.

    Undecided, the case is blinded for everyone: a masked clock in the blinded table (the same
    row whatever the arm). Decided as a SUSAR, the clock exists only because of the arm: it goes
    to pharmacovigilance's own table, so no blinded id, count or ordering moves (blinding)."""
    assessment = ExpeditedAssessment.objects.filter(adverse_event=ae).first()
    if assessment is None or not ae.fatal_or_life_threatening:
        return
    reason = "The potential SUSAR became fatal or life-threatening"
    if assessment.status == CaseStatus.POTENTIAL_SUSAR:
        if not ae.clocks.filter(kind__in=BECAME_FATAL_KINDS).exists():
            clock_start(ae=ae, kind=ClockKind.SUSAR_BECAME_FATAL, started_at=timezone.now(), actor=actor,
                        visibility=ClockVisibility.MASKED, reason=reason)
    elif assessment.pv_outcome == PvOutcome.SUSAR and not ae.pv_clocks.filter(kind__in=BECAME_FATAL_KINDS).exists():
        pv_clock_start(ae=ae, kind=ClockKind.SUSAR_BECAME_FATAL, started_at=timezone.now(), actor=actor, reason=reason)


def ae_death_recheck(*, participant: Participant, actor: User | None) -> int:
    """Re-derive the soft check against the Death form of the participant's AEs (called when
    their Death form is saved, inside its transaction). Audited as a history entry of each AE
    whose check changed, without a new version (so no follow-up report or adjudication
    reopening: the AE itself did not change). Returns how many changed.

    Each AE whose check changes passes the write guard (invariant 5), also for a freeze or lock
    of that one AE form: the Death form's write is then refused rather than leave a frozen AE
    silently changed or its check stale."""
    died = derivation.death_date(participant)
    changed = 0
    for ae in (AdverseEvent.objects.select_for_update().filter(participant_id=participant.pk)
               .exclude(status=EntryStatus.RETRACTED).order_by("pk")):
        check = rules.death_check(status=ae.status, grade=ae.grade, outcome=ae.outcome,
                                  onset_date=ae.onset_date, died=died)
        if check != ae.death_check:
            assert_writable(participant=participant, form=ae)
            ae.death_check = check
            save_audited(ae, actor, "Check against the Death form re-derived")
            changed += 1
    return changed
