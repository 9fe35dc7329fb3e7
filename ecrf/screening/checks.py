"""The screening CRFs' edit checks (``ecrf.crf.checks``): consent against the Sepsis-3 onset, the
phenotype fixed at randomization against the central-lab values now on record, the screening
sample's timing, and a representative's consent the patient never confirmed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateTimeField, Q, QuerySet, Subquery, Value

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.outcomes.models import Death
from ecrf.schedule.checks import latest_value, live, live_exists, on_form
from ecrf.screening.models import CentralLabResult, Consent, ConsentBy, ConsentDecision, Phenotype, Screening
from ecrf.screening.services import CONSENT_KEY, SCREENING_KEY
from ecrf.study.services import current_protocol

CENTRAL_LAB_KEY = "screening.central_lab"


def _sepsis3_at() -> Subquery:
    return latest_value(Screening, "sepsis3_at")


def consent_before_sepsis3(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(Consent, scope).filter(consented_at__lt=_sepsis3_at()))


register_check(EditCheck(
    code="SCR-001", version=1, severity=Severity.SOFT, form=CONSENT_KEY, fields=("consented_at",),
    rule=consent_before_sepsis3,
    message="The consent is dated before the Sepsis-3 onset recorded on the screening form: check both times.",
    rationale="trial.md \"Who is screened\": a patient is screened for (and consents to) the trial because of a "
              "sepsis episode; a consent before it points at a wrong date or time on one of the two forms."))


def phenotype_contradicted(scope: CheckScope) -> QuerySet[Any]:
    protocol = current_protocol()
    ferritin_limit, hla_limit = protocol.ferritin_mals_threshold, protocol.hla_dr_immunoparalysis_threshold
    rows = live(Screening, scope).filter(phenotype__isnull=False).annotate(ferritin=latest_value(CentralLabResult, "ferritin"),
                                                                            hla_dr=latest_value(CentralLabResult, "hla_dr"))
    not_mals = Q(phenotype=Phenotype.MALS, ferritin__lte=ferritin_limit)
    not_paralysis = Q(phenotype=Phenotype.IMMUNOPARALYSIS) & (Q(ferritin__gt=ferritin_limit) | Q(hla_dr__gte=hla_limit))
    return on_form(rows.filter(not_mals | not_paralysis))


register_check(EditCheck(
    code="SCR-002", version=1, severity=Severity.HARD, form=SCREENING_KEY, fields=("phenotype",),
    rule=phenotype_contradicted,
    message="The phenotype fixed at randomization no longer matches the central-lab ferritin and HLA-DR on record "
            "(MALS: ferritin > 4420 ng/mL; immunoparalysis: ferritin <= 4420 and HLA-DR < 5000): check the lab "
            "values with the central lab, and record the protocol deviation if they are right.",
    rationale="trial.md \"Immune phenotype\": the phenotype decides eligibility, stratum and therapy; a lab value "
              "corrected after randomization leaves the fixed phenotype wrong."))


def sample_before_sepsis3(scope: CheckScope) -> QuerySet[Any]:
    onset = _sepsis3_at()
    return on_form(live(CentralLabResult, scope).filter(Q(ferritin_sampled_at__lt=onset) | Q(hla_dr_sampled_at__lt=onset)))


register_check(EditCheck(
    code="SCR-003", version=1, severity=Severity.SOFT, form=CENTRAL_LAB_KEY,
    fields=("ferritin_sampled_at", "hla_dr_sampled_at"), rule=sample_before_sepsis3,
    message="The screening sample was taken before the Sepsis-3 onset on the screening form: check the sample time "
            "and the Sepsis-3 time.",
    rationale="trial.md \"Immune phenotype\": the phenotype is measured on the sepsis episode being screened; a "
              "sample before its onset does not classify it."))


def representative_consent_unconfirmed(scope: CheckScope) -> QuerySet[Any]:
    days = current_protocol().treatment_days
    cutoff = Value(scope.now - dt.timedelta(days=days), output_field=DateTimeField())
    return on_form(live(Consent, scope).filter(
        consent_by=ConsentBy.REPRESENTATIVE, decision=ConsentDecision.GIVEN, patient_decision="",
        withdrawn_on__isnull=True, participant__randomized_at__lt=cutoff).filter(~live_exists(Death)))


register_check(EditCheck(
    code="SCR-004", version=1, severity=Severity.SOFT, form=CONSENT_KEY, fields=("consent_by",),
    rule=representative_consent_unconfirmed,
    message="Consent was given by a legal representative and, 15 days after randomization, the patient's own "
            "decision is still not recorded: record the patient's confirmation or refusal once the patient can give it.",
    rationale="trial.md consent: a representative consents for a patient who cannot; the patient confirms or refuses "
              "when able, and a refusal changes what data may be used."))
