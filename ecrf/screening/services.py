"""Screening writes: the screening-log entry, the consent lifecycle, the outcome computed from the
three screening forms, its fixing at randomization, and the central lab's CSV import.

Form entry and correction go through the generic CRF services (``ecrf.crf.services``) with the
specs of ``ecrf.screening.specs``; their hooks (``ecrf.screening.hooks``) judge the entries by
the pure ``rules`` and call ``compute_outcome`` here to recompute the outcome. Everything here is blinded: nothing knows the arm.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from ecrf.accounts.roles import SITE_SCOPED_ROLES, Role, require_role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.screening.errors import ScreeningError
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.crf.guard import assert_writable
from ecrf.crf.models import EntryStatus, Participant
from ecrf.crf.registry import get_spec
from ecrf.crf.selectors import participant_get
from ecrf.crf.services import form_create, participant_create
from ecrf.deviations.services import deviation_raise_system
from ecrf.screening.eligibility import (
    COMPUTED_EXCLUSIONS,
    EligibilityResult,
    ScreeningFacts,
    assess_eligibility,
    reason_label,
)
from ecrf.screening.models import (
    EXCLUSION_COLUMNS,
    CentralLabResult,
    Consent,
    ConsentBy,
    ConsentDecision,
    Eligibility,
    PatientDecision,
    Screening,
    ScreeningCorrection,
    WithdrawalType,
)
from ecrf.screening.rules import (
    consent_counts,
    exclusion_codes,
    extra_criteria,
    ferritin_ng_ml,
    withdrawal_widens,
)
from ecrf.screening.rules import flag_exclusion_codes as _flag_exclusion_codes
from ecrf.study.models import Site
from ecrf.study.protocol import Protocol
from ecrf.study.services import current_protocol

if TYPE_CHECKING:
    from ecrf.accounts.models import User

_LIVE = (EntryStatus.DRAFT, EntryStatus.SUBMITTED)
# The keys of the specs in ``specs``, looked up in the form registry: ``specs`` imports ``hooks``,
# which imports this module, so this module can't import ``specs``.
SCREENING_KEY = "screening.screening"
CONSENT_KEY = "screening.consent"


# --- configuration ------------------------------------------------------------------------------
# ``extra_criteria`` and ``exclusion_codes`` (imported above from ``rules``) are used by the pages.


def flag_exclusion_codes(protocol: Protocol) -> list[str]:
    """Configured criteria with a yes/no column on the form (not computed from numbers)."""
    return _flag_exclusion_codes(protocol, EXCLUSION_COLUMNS)


# --- the outcome ------------------------------------------------------------------------------


def live_form(model: type, participant_id: int | None, lock: bool = False) -> Any:
    """The participant's live (draft or submitted) form of ``model``, the latest one."""
    if participant_id is None:
        return None
    qs = model.objects.filter(participant_id=participant_id, status__in=_LIVE)
    if lock:
        qs = qs.select_for_update()
    return qs.order_by("-pk").first()


def _consent_given(consent: Consent | None, *, as_randomized: bool) -> bool | None:
    if consent is None:
        return None
    return consent_counts(decision=consent.decision, patient_decision=consent.patient_decision,
                          withdrawn=bool(consent.withdrawal_type), as_randomized=as_randomized)


def compute_outcome(screening: Screening, *, consent: Consent | None = None, lab: CentralLabResult | None = None,
                    protocol: Protocol | None = None, fetch: bool = True,
                    as_randomized: bool = False) -> tuple[EligibilityResult, dict[str, Any]]:
    """The outcome of the screening form with the participant's consent and central-lab result
    (the pure ``assess_eligibility``), and the inputs it was derived from."""
    protocol = protocol or current_protocol()
    if fetch:
        consent = live_form(Consent, screening.participant_id)
        lab = live_form(CentralLabResult, screening.participant_id)
    exclusions: dict[str, bool | None] = {code: getattr(screening, column) for code, column in EXCLUSION_COLUMNS.items()}
    for code, _label in extra_criteria(protocol):
        value = (screening.extra_exclusions or {}).get(code)
        exclusions[code] = value if isinstance(value, bool) else None
    consent_given = _consent_given(consent, as_randomized=as_randomized)
    facts = ScreeningFacts(
        age=screening.age,
        sepsis3_met=True if screening.sepsis3_at is not None else None,
        admission_route=screening.admission_route or None,
        sofa_score_or_rise=screening.sofa_score_or_rise,
        infection_source=screening.infection_source or None,
        exclusions=exclusions,
        neutrophils_per_mm3=screening.neutrophils_per_mm3,
        corticosteroid_hydrocortisone_mg_per_day=screening.corticosteroid_mg_per_day,
        covid19=screening.covid19,
        consent_given=consent_given,
        ferritin=(ferritin_ng_ml(lab.ferritin, lab.ferritin_unit)
                  if lab is not None and lab.ferritin is not None else None),
        hla_dr=lab.hla_dr if lab is not None else None,
    )
    codes = exclusion_codes(protocol)
    result = assess_eligibility(facts, protocol=protocol, exclusion_codes=codes)
    derived_from = {
        "ferritin_ng_ml": str(lab.ferritin) if lab is not None and lab.ferritin is not None else None,
        "hla_dr": lab.hla_dr if lab is not None else None,
        "central_lab_result": lab.pk if lab is not None else None,
        "consent": consent.pk if consent is not None else None,
        "consent_given": consent_given,
        "exclusion_codes": codes,
        "thresholds": {
            "ferritin_mals_gt": str(protocol.ferritin_mals_threshold),
            "hla_dr_immunoparalysis_lt": protocol.hla_dr_immunoparalysis_threshold,
            "min_age_years": protocol.min_age_years,
            "neutrophil_min_per_mm3": protocol.neutrophil_min_per_mm3,
            "corticosteroid_max_mg_per_day": str(protocol.corticosteroid_max_hydrocortisone_mg_per_day),
            "covid_mals_only": protocol.covid_mals_only,
        },
    }
    return result, derived_from


def apply_outcome(screening: Screening, result: EligibilityResult, derived_from: dict[str, Any]) -> bool:
    """Set the derived fields; True if anything changed."""
    new = {
        "eligibility": result.eligibility,
        "phenotype": result.phenotype,
        "ineligibility_reasons": list(result.reasons),
        "awaiting": list(result.pending),
        "derived_from": derived_from,
    }
    changed = any(getattr(screening, name) != value for name, value in new.items())
    if changed or screening.assessed_at is None:
        for name, value in new.items():
            setattr(screening, name, value)
        screening.assessed_at = timezone.now()
    return changed


def screening_reassess(*, participant: Participant, actor: User | None, cause: str) -> Screening | None:
    """Recompute the outcome after a consent or central-lab change (inside that transaction).

    Until randomization a changed outcome is saved with the cause as the audit reason; after
    randomization the outcome stays fixed and a differing one is recorded as a correction that
    raises a protocol deviation.
    """
    screening = live_form(Screening, participant.pk, lock=True)
    if screening is None:
        return None
    if screening.phenotype_fixed_at is not None:
        check_post_randomization_correction(screening=screening, actor=actor, cause=cause)
        return screening
    result, derived_from = compute_outcome(screening)
    if apply_outcome(screening, result, derived_from):
        assert_writable(participant=participant, form=screening)
        screening.version += 1
        screening.updated_at = timezone.now()
        screening.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        screening._history_user = screening.updated_by
        screening._change_reason = f"Outcome recomputed after a {cause} change"
        screening.save()
    return screening


def check_post_randomization_correction(*, screening: Screening, actor: User | None, cause: str) -> ScreeningCorrection | None:
    """After randomization: if the screening data now give another outcome, keep the fixed one
    (stratum and therapy) and record the correction with a protocol deviation."""
    try:
        result, _ = compute_outcome(screening, as_randomized=True)
    except (ValueError, TypeError):
        return None
    fixed = (screening.eligibility, screening.phenotype)
    computed = (result.eligibility, result.phenotype)
    if computed == fixed:
        return None
    last = ScreeningCorrection.objects.filter(participant_id=screening.participant_id).order_by("-pk").first()
    if last is not None and (last.computed_eligibility, last.computed_phenotype, list(last.computed_reasons)) == (
            result.eligibility, result.phenotype, list(result.reasons)):
        return last  # the same discrepancy is already on record
    correction = ScreeningCorrection(
        participant_id=screening.participant_id, detected_by=actor if getattr(actor, "is_authenticated", False) else None,
        cause=cause[:200], fixed_eligibility=screening.eligibility, fixed_phenotype=screening.phenotype,
        computed_eligibility=result.eligibility, computed_phenotype=result.phenotype,
        computed_reasons=list(result.reasons))
    correction._history_user = correction.detected_by
    correction._change_reason = f"Screening data changed after randomization ({cause})"
    correction.save()
    if _raise_deviation(screening, correction, result):
        correction.deviation_raised = True
        correction._change_reason = "Protocol deviation raised"
        correction.save(update_fields=["deviation_raised"])
    return correction


def _raise_deviation(screening: Screening, correction: ScreeningCorrection, result: EligibilityResult) -> bool:
    reasons = "; ".join(reason_label(c) for c in result.reasons) or "none"
    description = (
        f"Screening data changed after randomization ({correction.cause}). With the corrected data the "
        f"outcome would be {result.eligibility} (phenotype {result.phenotype or 'none'}; reasons: {reasons}); "
        f"the participant stays in the phenotype fixed at randomization ({screening.phenotype}) for stratum "
        f"and therapy.")
    deviation_raise_system(participant=screening.participant, rule_code=f"screening_correction_{correction.pk}",
                           category="eligibility", description=description, occurred_on=timezone.localdate())
    return True


def screening_fix_for_randomization(*, actor: User | None, participant: Participant, randomized_at: dt.datetime) -> Screening:
    """Inside the randomization transaction: lock the screening form, check that the participant
    is eligible and consented on the current data, and fix the phenotype for good."""
    screening = live_form(Screening, participant.pk, lock=True)
    if screening is None:
        raise DomainError(ScreeningError.NO_SCREENING_FORM, "This participant has no screening form; screen the patient first.")
    if screening.phenotype_fixed_at is not None:
        raise DomainError(ScreeningError.PHENOTYPE_FIXED, "This participant's phenotype is already fixed by a randomization.")
    consent = live_form(Consent, participant.pk)
    lab = live_form(CentralLabResult, participant.pk)
    result, derived_from = compute_outcome(screening, consent=consent, lab=lab, fetch=False)
    unsubmitted = [label for label, form in (("screening", screening), ("consent", consent), ("central-lab", lab))
                   if form is not None and form.status != EntryStatus.SUBMITTED]
    if consent is None or consent.decision != ConsentDecision.GIVEN or not consent.is_valid_consent or consent.withdrawal_type:
        what = ("no informed consent is recorded" if consent is None
                else "consent was refused" if consent.decision != ConsentDecision.GIVEN
                else "the patient refused the representative's consent" if not consent.is_valid_consent
                else "consent was withdrawn")
        raise DomainError(ScreeningError.NOT_CONSENTED, f"Only a consented participant may be randomized: {what}.",
                          fields={"consent": what})
    if result.eligibility != Eligibility.ELIGIBLE:
        if result.eligibility == Eligibility.PENDING:
            message = "Eligibility is still pending (awaiting: " + ", ".join(result.pending) + ")."
        else:
            message = "The participant is not eligible: " + "; ".join(reason_label(c) for c in result.reasons) + "."
        raise DomainError(ScreeningError.NOT_ELIGIBLE, f"Only an eligible participant may be randomized. {message}",
                          fields={"eligibility": message})
    if unsubmitted:
        raise DomainError(ScreeningError.FORMS_NOT_SUBMITTED,
                          f"Submit the {', '.join(unsubmitted)} form{'s' if len(unsubmitted) > 1 else ''} before randomizing.")
    assert_writable(participant=participant, form=screening)
    apply_outcome(screening, result, derived_from)
    screening.phenotype_fixed_at = randomized_at
    screening.version += 1
    screening.updated_at = timezone.now()
    screening.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    screening._history_user = screening.updated_by
    screening._change_reason = "Phenotype fixed at randomization"
    screening.save()
    return screening


# --- the screening-log entry ------------------------------------------------------------------


@transaction.atomic
def screening_register(*, actor: User, site: Site | str, screening_number: str, data: dict[str, Any],
                       submit: bool = False) -> Screening:
    """Enter a screened patient in the screening log: the participant (unique screening number
    per site) and its screening form, together or not at all."""
    if not isinstance(site, Site):
        code = (site or "").strip() if isinstance(site, str) else ""
        found = Site.objects.filter(code=code).first() if code else None
        if found is None:
            raise invalid(f"Unknown site {code!r}." if code else "Give the site.", site="Unknown site." if code else "Required.")
        site = found
    participant = participant_create(actor=actor, site=site, screening_number=screening_number,
                                     reason="Entered in the screening log")
    return form_create(actor=actor, spec=get_spec(SCREENING_KEY), participant=participant, data=data, submit=submit)


# --- consent lifecycle --------------------------------------------------------------------------


def _authorize_consent(actor: User, consent: Consent) -> None:
    spec = get_spec(CONSENT_KEY)
    participant_get(actor, consent.participant_id, spec.read_roles | spec.write_roles)
    held = user_roles(actor) & spec.write_roles
    if not held:
        raise DomainError(ErrorCode.FORBIDDEN, "Your role may not record consent decisions.")
    if held <= SITE_SCOPED_ROLES and consent.participant.site_id not in member_site_ids(actor):
        raise DomainError(ErrorCode.FORBIDDEN, "You may record consent decisions only at your own site.")


def _lock_consent(consent: Consent, version: int | None) -> Consent:
    # The lock order of ecrf.crf.services: the participant row first, then the consent.
    Participant.objects.select_for_update().filter(pk=consent.participant_id).first()
    current = Consent.objects.select_for_update().select_related("participant").get(pk=consent.pk)
    if version is None:
        raise invalid("Send the version you read, so that concurrent changes are detected.", version="Required.")
    if int(version) != current.version:
        raise DomainError(ErrorCode.STALE_VERSION, f"This consent record was changed by someone else (version "
                          f"{current.version}, you sent {version}); reload it and apply your change again.")
    if current.status == EntryStatus.RETRACTED:
        raise DomainError(ScreeningError.CONSENT_RETRACTED, "This consent record was retracted; it cannot change.")
    if current.status == EntryStatus.NOT_DONE:
        raise DomainError(ScreeningError.CONSENT_NOT_DONE, "This consent record is marked not done.")
    assert_writable(participant=current.participant, form=current)
    return current


def _save_consent(consent: Consent, actor: User | None, reason: str) -> Consent:
    consent.version += 1
    consent.updated_at = timezone.now()
    consent.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    consent._history_user = consent.updated_by
    consent._change_reason = reason
    consent.save()
    screening_reassess(participant=consent.participant, actor=actor, cause="consent")
    return consent


def _as_aware(value: Any, name: str) -> dt.datetime:
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            raise invalid(f"{name}: give a date and time (YYYY-MM-DD HH:MM).", **{name: "Not a date and time."})
        value = parsed
    if not isinstance(value, dt.datetime):
        raise invalid(f"{name}: give a date and time.", **{name: "Required."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _check_withdrawal_type(withdrawal_type: str, protocol: Protocol) -> str:
    if withdrawal_type not in WithdrawalType.values:
        raise invalid(f"Unknown withdrawal type {withdrawal_type!r}; use one of {', '.join(WithdrawalType.values)}.",
                      withdrawal_type="Unknown withdrawal type.")
    if withdrawal_type == WithdrawalType.DATA_USE and not protocol.allow_withdrawal_of_collected_data:
        raise invalid("This study's configuration keeps data collected before withdrawal usable (EU law allows it); "
                      "record a withdrawal from treatment or from further data collection.",
                      withdrawal_type="Not allowed by the study configuration.")
    return withdrawal_type


@transaction.atomic
def consent_record_patient_decision(*, actor: User, consent: Consent, decision: str, decided_at: Any,
                                    version: int | None, form_version: str = "", withdrawal_type: str = "",
                                    reason: str = "") -> Consent:
    """The patient's later confirmation or refusal of a legal representative's consent.

    A refusal ends the consent: before randomization the patient is no longer eligible; after
    randomization it is a withdrawal whose type the patient chooses (required then).
    """
    _authorize_consent(actor, consent)
    current = _lock_consent(consent, version)
    protocol = current_protocol()
    if current.consent_by != ConsentBy.REPRESENTATIVE or current.decision != ConsentDecision.GIVEN:
        raise DomainError(ScreeningError.NO_DECISION_AWAITED, "Only a consent given by a legal representative awaits the "
                          "patient's confirmation or refusal.")
    if current.patient_decision:
        raise DomainError(ScreeningError.DECISION_RECORDED, f"The patient's decision is already recorded "
                          f"({current.get_patient_decision_display().lower()}).")
    if current.withdrawal_type:
        raise DomainError(ScreeningError.CONSENT_WITHDRAWN, "Consent was already withdrawn.")
    if decision not in PatientDecision.values:
        raise invalid(f"Unknown decision {decision!r}; use confirmed or refused.", decision="Unknown decision.")
    decided_at = _as_aware(decided_at, "decided_at")
    if decided_at > timezone.now():
        raise invalid("The patient's decision can't be in the future.", decided_at="In the future.")
    if decided_at < current.consented_at:
        raise invalid("The patient's decision can't precede the representative's consent.",
                      decided_at="Before the representative's consent.")
    form_version = (form_version or "").strip()
    if decision == PatientDecision.CONFIRMED:
        if not form_version:
            raise invalid("Give the consent form version the patient signed.", form_version="Required.")
        if protocol.consent_form_versions and form_version not in protocol.consent_form_versions:
            raise invalid(f"Unknown consent form version {form_version!r}.", form_version="Not a configured version.")
        if withdrawal_type:
            raise invalid("A confirmation has no withdrawal type.", withdrawal_type="Only with a refusal.")
    else:
        if current.participant.is_randomized and not withdrawal_type:
            raise invalid("The participant is randomized: say what the patient's refusal withdraws from.",
                          withdrawal_type="Required after randomization.")
        if withdrawal_type:
            _check_withdrawal_type(withdrawal_type, protocol)
            current.withdrawal_type = withdrawal_type
            current.withdrawn_on = timezone.localtime(decided_at, _site_zone(current.participant)).date()
    current.patient_decision = decision
    current.patient_decision_at = decided_at
    current.patient_form_version = form_version
    label = "confirmed" if decision == PatientDecision.CONFIRMED else "refused"
    note = (reason or "").strip()
    return _save_consent(current, actor, f"Patient {label} the representative's consent" + (f": {note}" if note else ""))


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent, withdrawal_type: str, withdrawn_on: Any,
                     version: int | None, reason: str = "") -> Consent:
    """Withdrawal of consent by type and date. A withdrawal may widen later (treatment, then data
    collection, then, where the study allows it, use of collected data), never narrow."""
    _authorize_consent(actor, consent)
    current = _lock_consent(consent, version)
    protocol = current_protocol()
    if not current.is_valid_consent:
        raise DomainError(ScreeningError.NO_VALID_CONSENT, "There is no valid consent to withdraw.")
    _check_withdrawal_type(withdrawal_type, protocol)
    if isinstance(withdrawn_on, str):
        try:
            withdrawn_on = dt.date.fromisoformat(withdrawn_on.strip())
        except ValueError:
            raise invalid("withdrawn_on: give a date (YYYY-MM-DD).", withdrawn_on="Not a date.") from None
    if isinstance(withdrawn_on, dt.datetime) or not isinstance(withdrawn_on, dt.date):
        raise invalid("withdrawn_on: give a date (YYYY-MM-DD).", withdrawn_on="Required.")
    site_today = timezone.localtime(timezone.now(), _site_zone(current.participant)).date()
    if withdrawn_on > site_today:
        raise invalid("The withdrawal date can't be in the future.", withdrawn_on="In the future.")
    if withdrawn_on < timezone.localtime(current.consented_at, _site_zone(current.participant)).date():
        raise invalid("The withdrawal date can't precede the consent.", withdrawn_on="Before the consent.")
    if current.withdrawal_type:
        if not withdrawal_widens(current.withdrawal_type, withdrawal_type):
            raise DomainError(ScreeningError.CONSENT_WITHDRAWN, f"Consent is already withdrawn "
                              f"({current.get_withdrawal_type_display().lower()}); a withdrawal may widen, not narrow "
                              f"or repeat.", fields={"withdrawal_type": "Already withdrawn at least this far."})
        if current.withdrawn_on and withdrawn_on < current.withdrawn_on:
            raise invalid("A wider withdrawal can't precede the earlier one.", withdrawn_on="Before the earlier withdrawal.")
    current.withdrawal_type = withdrawal_type
    current.withdrawn_on = withdrawn_on
    note = (reason or "").strip()
    # The trail's own words in the project's language, whatever the language of the page.
    with translation.override(settings.LANGUAGE_CODE):
        label = str(WithdrawalType(withdrawal_type).label)
    return _save_consent(current, actor, f"Consent withdrawn: {label}" + (f": {note}" if note else ""))


def _site_zone(participant: Participant) -> Any:
    return zoneinfo.ZoneInfo(participant.site.time_zone)


def require_lab_role(actor: User) -> None:
    require_role(actor, {Role.LAB}, "enter or import central-lab results")


__all__ = [
    "COMPUTED_EXCLUSIONS", "compute_outcome", "consent_record_patient_decision", "consent_withdraw",
    "exclusion_codes", "extra_criteria", "screening_fix_for_randomization", "screening_reassess",
    "screening_register",
]
