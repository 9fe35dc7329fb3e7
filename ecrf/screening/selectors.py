"""Reads of screening data. The contract other apps rely on (schedule, dosing, outcomes, safety,
randomization, exports):

- ``screening_outcome(participant) -> ScreeningOutcome | None``
- ``withdrawal_for(participant) -> Withdrawal | None``; ``withdrawals_for(participant_ids)`` (one query)
- ``phenotypes_for(participant_ids) -> dict[int, str | None]`` (one query)

These take a participant the caller has already fetched through a scoped selector
(``ecrf.crf.selectors.participant_get``); the user-scoped reads (screening log, report) are below.
Nothing here knows or implies the arm.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from ecrf.accounts.roles import ALL_SITE_ROLES, SITE_SCOPED_ROLES, Role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.crf.models import EntryStatus, Participant
from ecrf.crf.selectors import participants_for
from ecrf.dosing.selectors import given_administrations
from ecrf.screening.models import (
    CentralLabResult,
    Consent,
    ConsentDecision,
    Eligibility,
    Screening,
    WithdrawalType,
)
from ecrf.study.models import Site

# Entries that count: a retracted entry was made in error, a "not done" one holds no data.
_LIVE = (EntryStatus.DRAFT, EntryStatus.SUBMITTED)


@dataclass(frozen=True)
class ScreeningOutcome:
    eligibility: str  # "eligible" | "not_eligible" | "pending"
    # "MALS" | "immunoparalysis" | None; after randomization, the phenotype fixed for the stratum
    # and the therapy (later corrections never change it).
    phenotype: str | None
    reasons: tuple[str, ...]  # ineligibility reason codes (ecrf.screening.eligibility.REASON_LABELS)
    sepsis3_at: dt.datetime
    # Consent given (by the patient or a representative) and not refused by the patient later.
    # A withdrawal does not undo it: see ``withdrawal_for``.
    consented: bool
    phenotype_fixed: bool = False
    awaiting: tuple[str, ...] = ()


@dataclass(frozen=True)
class Withdrawal:
    type: str  # "treatment" | "data_collection" | "data_use"
    date: dt.date


def _live(model: type, participant_id: int) -> Any:
    return model.objects.filter(participant_id=participant_id, status__in=_LIVE).order_by("-pk").first()


def screening_for(participant: Participant) -> Screening | None:
    return _live(Screening, participant.pk)


def consent_for(participant: Participant) -> Consent | None:
    return _live(Consent, participant.pk)


def lab_result_for(participant: Participant) -> CentralLabResult | None:
    return _live(CentralLabResult, participant.pk)


def screening_outcome(participant: Participant) -> ScreeningOutcome | None:
    screening = screening_for(participant)
    if screening is None:
        return None
    consent = consent_for(participant)
    return ScreeningOutcome(
        eligibility=screening.eligibility,
        phenotype=screening.phenotype,
        reasons=tuple(screening.ineligibility_reasons or ()),
        sepsis3_at=screening.sepsis3_at,
        consented=bool(consent is not None and consent.is_valid_consent),
        phenotype_fixed=screening.phenotype_fixed_at is not None,
        awaiting=tuple(screening.awaiting or ()),
    )


def withdrawal_for(participant: Participant) -> Withdrawal | None:
    return withdrawals_for([participant.pk]).get(participant.pk)


def withdrawal_of(consent: Consent | None) -> Withdrawal | None:
    """The withdrawal recorded on ``consent`` (the participant's ``consent_for``), or None: for a
    caller that already read the consent (no query)."""
    if consent is None or not consent.withdrawal_type or consent.withdrawn_on is None:
        return None
    return Withdrawal(type=consent.withdrawal_type, date=consent.withdrawn_on)


def withdrawals_for(participant_ids: Iterable[int]) -> dict[int, Withdrawal]:
    """The withdrawal of each participant that withdrew, in one query: recorded on the latest
    live consent entry (as ``consent_for`` reads it)."""
    latest: dict[int, Consent] = {}
    for consent in Consent.objects.filter(participant_id__in=list(participant_ids), status__in=_LIVE).order_by("participant_id", "pk"):
        latest[consent.participant_id] = consent  # the latest live entry wins
    return {pid: found for pid, c in latest.items() if (found := withdrawal_of(c)) is not None}


def phenotypes_for(participant_ids: Iterable[int]) -> dict[int, str | None]:
    ids = list(dict.fromkeys(int(i) for i in participant_ids))
    found: dict[int, str | None] = dict.fromkeys(ids)
    rows = (Screening.objects.filter(participant_id__in=ids, status__in=_LIVE).order_by("participant_id", "pk")
            .values_list("participant_id", "phenotype"))
    for participant_id, phenotype in rows:  # the latest live entry wins
        found[participant_id] = phenotype
    return found


# --- user-scoped reads ------------------------------------------------------------------------

# Who may read the screening log and report (blinded: counts of randomized, never by arm).
SCREENING_LOG_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER,
                                 Role.SAFETY_OFFICER, Role.LAB})
REPORT_ROLES = SCREENING_LOG_ROLES | {Role.SPONSOR, Role.STATISTICIAN, Role.DSMB}
# Roles whose report spans every site (with a total across sites).
_REPORT_ALL_SITES = ALL_SITE_ROLES | {Role.SPONSOR, Role.STATISTICIAN, Role.DSMB}


def screening_log_for(user: Any) -> QuerySet[Screening]:
    visible = participants_for(user, SCREENING_LOG_ROLES)
    valid_consent = Consent.objects.filter(participant_id=OuterRef("participant_id"), status__in=_LIVE,
                                           decision=ConsentDecision.GIVEN).exclude(patient_decision="refused")
    return (Screening.objects.filter(participant__in=visible.values("pk"), status__in=_LIVE)
            .select_related("participant", "participant__site", "rescreen_of")
            .annotate(consented=Exists(valid_consent))
            .order_by("participant__site__code", "-sepsis3_at", "participant__screening_number"))


def report_sites_for(user: Any) -> tuple[list[Site], bool]:
    """Sites in the user's report, and whether the user sees every site (then a total is shown)."""
    roles = user_roles(user) & REPORT_ROLES
    if roles & _REPORT_ALL_SITES:
        return list(Site.objects.order_by("code")), True
    if roles & SITE_SCOPED_ROLES:
        return list(Site.objects.filter(pk__in=member_site_ids(user)).order_by("code")), False
    return [], False


@dataclass
class ReportRow:
    site: str
    screened: int = 0
    rescreenings: int = 0
    pending: int = 0
    not_eligible: int = 0
    not_eligible_by_reason: dict[str, int] | None = None
    eligible: int = 0
    eligible_by_phenotype: dict[str, int] | None = None
    consented: int = 0
    eligible_consented: int = 0  # the flow's "consented": of the eligible (consent precedes the phenotype)
    randomized: int = 0
    dosed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, "screened": self.screened, "rescreenings": self.rescreenings,
                "pending": self.pending, "not_eligible": self.not_eligible,
                "not_eligible_by_reason": dict(sorted((self.not_eligible_by_reason or {}).items())),
                "eligible": self.eligible,
                "eligible_by_phenotype": dict(sorted((self.eligible_by_phenotype or {}).items())),
                "consented": self.consented, "eligible_consented": self.eligible_consented,
                "randomized": self.randomized, "dosed": self.dosed}


def screening_report(user: Any) -> dict[str, Any]:
    """The top of the CONSORT flow per site: screened, not eligible by reason, eligible by
    phenotype, consented, randomized, dosed (at least one administration given; the dosing app
    is a sibling on the clinical floor). Two queries, whatever the number of participants."""
    sites, all_sites = report_sites_for(user)
    rows = {s.pk: ReportRow(site=s.code, not_eligible_by_reason={}, eligible_by_phenotype={}) for s in sites}
    valid_consent = Consent.objects.filter(participant_id=OuterRef("participant_id"), status__in=_LIVE,
                                           decision=ConsentDecision.GIVEN).exclude(patient_decision="refused")
    screenings = (Screening.objects.filter(participant__site_id__in=list(rows), status__in=_LIVE)
                  .annotate(consented=Exists(valid_consent),
                            dosed=Exists(given_administrations().filter(participant_id=OuterRef("participant_id"))))
                  .values_list("participant__site_id", "eligibility", "phenotype", "ineligibility_reasons",
                               "rescreen_of_id", "consented", "participant__randomized_at", "dosed"))
    for site_id, eligibility, phenotype, reasons, rescreen_of, consented, randomized_at, dosed in screenings:
        row = rows[site_id]
        row.screened += 1
        row.rescreenings += rescreen_of is not None
        row.consented += bool(consented)
        row.randomized += randomized_at is not None
        row.dosed += bool(dosed) and randomized_at is not None
        if eligibility == Eligibility.ELIGIBLE:
            row.eligible += 1
            row.eligible_consented += bool(consented)
            key = phenotype or "unknown"
            row.eligible_by_phenotype[key] = row.eligible_by_phenotype.get(key, 0) + 1  # type: ignore[index]
        elif eligibility == Eligibility.NOT_ELIGIBLE:
            row.not_eligible += 1
            for code in reasons or ():
                row.not_eligible_by_reason[code] = row.not_eligible_by_reason.get(code, 0) + 1  # type: ignore[index]
        else:
            row.pending += 1
    out_rows = [rows[s.pk] for s in sites]
    total = None
    if all_sites:
        total = ReportRow(site="all", not_eligible_by_reason=Counter(), eligible_by_phenotype=Counter())
        for r in out_rows:
            for name in ("screened", "rescreenings", "pending", "not_eligible", "eligible", "consented",
                         "eligible_consented", "randomized", "dosed"):
                setattr(total, name, getattr(total, name) + getattr(r, name))
            total.not_eligible_by_reason.update(r.not_eligible_by_reason)  # type: ignore[union-attr]
            total.eligible_by_phenotype.update(r.eligible_by_phenotype)  # type: ignore[union-attr]
    return {"sites": [r.as_dict() for r in out_rows], "total": total.as_dict() if total else None}


def randomizations_for_report(user: Any) -> list[tuple[str, str | None, dt.datetime]]:
    """(site code, phenotype, randomized at) of each participant randomized at a site of the
    user's report, for enrolment over time. Two queries; blinded: never the arm."""
    sites, _ = report_sites_for(user)
    rows = list(Participant.objects.filter(site__in=sites, randomized_at__isnull=False)
                .values_list("pk", "site__code", "randomized_at"))
    phenotypes = phenotypes_for(pk for pk, _, _ in rows)
    return [(code, phenotypes.get(pk), at) for pk, code, at in rows]


__all__ = [
    "ScreeningOutcome",
    "Withdrawal",
    "WithdrawalType",
    "consent_for",
    "lab_result_for",
    "phenotypes_for",
    "randomizations_for_report",
    "screening_for",
    "screening_log_for",
    "screening_outcome",
    "screening_report",
    "withdrawal_for",
    "withdrawal_of",
    "withdrawals_for",
]
