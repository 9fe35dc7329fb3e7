"""The screening forms' entry rules (``ecrf.screening.rules``), on plain values, at every edge.

The thresholds are those of docs/reference/trial.md ("Who is screened", "Immune phenotype") and
of the protocol's plausibility limits; each edge is tested on both sides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from ecrf.screening import rules
from ecrf.screening.eligibility import classify_phenotype
from ecrf.screening.rules import (
    ConsentEntry,
    ConsentOnRecord,
    EarlierScreening,
    LabEntry,
    ScreeningEntry,
    consent_counts,
    consent_problems,
    exclusion_codes,
    extra_criteria,
    ferritin_ng_ml,
    lab_problems,
    rescreen_problem,
    screening_entry_problems,
    withdrawal_widens,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL

D = Decimal
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TICK = dt.timedelta(microseconds=1)
P = DEFAULT_PROTOCOL


def screening(**values: object) -> dict[str, str]:
    return screening_entry_problems(ScreeningEntry(extra_exclusions={}, **values), protocol=P, now=NOW)  # type: ignore[arg-type]


# --- the screening-log entry ------------------------------------------------------------------


def test_a_plausible_screening_has_no_problem() -> None:
    assert screening(sepsis3_at=NOW, age=120, sofa_score_or_rise=24, corticosteroid_mg_per_day=D("0")) == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sepsis3_at": NOW + TICK}, "sepsis3_at"),  # a microsecond in the future
        ({"age": 121}, "age"),
        ({"sofa_score_or_rise": 25}, "sofa_score_or_rise"),
        ({"corticosteroid_mg_per_day": D("-0.1")}, "corticosteroid_mg_per_day"),
    ],
)
def test_each_impossible_answer_is_refused_on_its_field(values: dict[str, object], field: str) -> None:
    assert list(screening(**values)) == [field]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "Give the further exclusion criteria as {code: true/false/null}."),
        ({"pregnancy": True}, "Unknown exclusion criterion pregnancy; this study's further criteria are: none."),
    ],
)
def test_further_exclusions_must_be_a_mapping_of_known_codes(extra: object, message: str) -> None:
    errors = screening_entry_problems(ScreeningEntry(extra_exclusions=extra), protocol=P, now=NOW)
    assert errors == {"extra_exclusions": message}


def test_further_exclusions_of_the_study_are_answered_true_false_or_null() -> None:
    protocol = replace(P, extra_exclusion_criteria=("pregnancy: Pregnancy", "hiv"))
    assert extra_criteria(protocol) == [("pregnancy", "Pregnancy"), ("hiv", "hiv")]
    assert exclusion_codes(protocol)[-2:] == ["pregnancy", "hiv"]
    ok = ScreeningEntry(extra_exclusions={"pregnancy": True, "hiv": None})
    assert screening_entry_problems(ok, protocol=protocol, now=NOW) == {}
    bad = ScreeningEntry(extra_exclusions={"pregnancy": "yes"})
    assert list(screening_entry_problems(bad, protocol=protocol, now=NOW)) == ["extra_exclusions"]


FAILED = EarlierScreening(screening_number="A-001", randomized=False, failed=True)


@pytest.mark.parametrize(
    ("earlier", "own", "expected"),
    [
        (FAILED, "A-002", None),
        (None, "A-002", "No screening A-001 at this site."),
        (FAILED, "A-001", "A screening can't repeat itself."),
        (replace(FAILED, randomized=True), "A-002", "Screening A-001 led to randomization; it can't be repeated."),
        (replace(FAILED, failed=False), "A-002",
         "Screening A-001 did not fail; only a failed screening may be repeated."),
        (replace(FAILED, repeated_as="A-007"), "A-002", "Screening A-001 was already repeated as A-007."),
    ],
)
def test_only_a_failed_unrandomized_screening_is_repeated_once(earlier: EarlierScreening | None, own: str,
                                                               expected: str | None) -> None:
    assert rescreen_problem("A-001", protocol=P, own_screening_number=own, earlier=earlier) == expected


def test_rescreening_can_be_switched_off_by_the_study() -> None:
    entry = ScreeningEntry(extra_exclusions={}, previous_screening_number="A-001")
    errors = screening_entry_problems(entry, protocol=replace(P, allow_rescreening=False), now=NOW,
                                      own_screening_number="A-002", earlier=FAILED)
    assert errors == {"previous_screening_number": "Re-screening is not allowed by this study's configuration."}
    assert screening_entry_problems(entry, protocol=P, now=NOW, own_screening_number="A-002", earlier=FAILED) == {}


# --- consent ------------------------------------------------------------------------------------


def consent(first_lab_sample_at: dt.datetime | None = None, **values: object) -> dict[str, str]:
    base = ConsentEntry(consent_by="patient", decision="given", form_version="", consented_at=NOW)
    return consent_problems(replace(base, **values), protocol=P, now=NOW, zone=UTC,  # type: ignore[arg-type]
                            first_lab_sample_at=first_lab_sample_at)


def test_a_representative_names_the_relation_and_a_patient_does_not() -> None:
    assert consent() == {}
    assert list(consent(consent_by="representative")) == ["representative_relation"]
    assert consent(consent_by="representative", representative_relation="spouse") == {}
    assert list(consent(representative_relation="spouse")) == ["representative_relation"]


def test_consent_form_version_must_be_one_the_study_uses() -> None:
    protocol = replace(P, consent_form_versions=("v2.0", "v2.1"))
    entry = ConsentEntry(consent_by="patient", decision="given", form_version="v1.0", consented_at=NOW)
    assert list(consent_problems(entry, protocol=protocol, now=NOW, zone=UTC)) == ["form_version"]
    assert consent_problems(replace(entry, form_version="v2.1"), protocol=protocol, now=NOW, zone=UTC) == {}


def test_consent_time_edges() -> None:
    assert list(consent(consented_at=NOW + TICK)) == ["consented_at"]
    assert list(consent(patient_decision_at=NOW - TICK)) == ["consented_at"]
    assert consent(patient_decision_at=NOW) == {}


def test_lab_samples_need_a_consent_given_before_them() -> None:
    assert consent(first_lab_sample_at=NOW) == {}  # sampled at the minute of consent
    before = consent(first_lab_sample_at=NOW - TICK)
    assert list(before) == ["consented_at"]
    assert "2026-11-20 11:59 UTC" in before["consented_at"]
    assert list(consent(first_lab_sample_at=NOW, decision="refused")) == ["decision"]


@pytest.mark.parametrize(
    ("decision", "patient_decision", "withdrawn", "as_randomized", "counts"),
    [
        (None, "", False, False, None),  # no consent form yet: pending
        ("refused", "", False, False, False),
        ("refused", "", False, True, False),
        ("given", "", False, False, True),
        ("given", "confirmed", False, False, True),
        ("given", "refused", False, False, False),  # the patient refused the representative's consent
        ("given", "", True, False, False),  # withdrawn before randomization
        # After randomization: judged on the data of the day.
        ("given", "refused", False, True, True),
        ("given", "", True, True, True),
    ],
)
def test_when_consent_counts_for_eligibility(decision: str | None, patient_decision: str, withdrawn: bool,
                                             as_randomized: bool, counts: bool | None) -> None:
    assert consent_counts(decision=decision, patient_decision=patient_decision, withdrawn=withdrawn,
                          as_randomized=as_randomized) is counts


@pytest.mark.parametrize(("current", "new", "widens"), [
    ("treatment", "treatment", False), ("treatment", "data_collection", True), ("treatment", "data_use", True),
    ("data_collection", "treatment", False), ("data_collection", "data_collection", False),
    ("data_collection", "data_use", True), ("data_use", "data_collection", False), ("data_use", "data_use", False),
])
def test_a_withdrawal_only_widens(current: str, new: str, widens: bool) -> None:
    assert withdrawal_widens(current, new) is widens


@pytest.mark.django_db
def test_the_rules_use_the_stored_codes_of_the_models() -> None:
    from ecrf.screening import models

    assert rules.WITHDRAWAL_ORDER == tuple(str(w) for w in models.WITHDRAWAL_ORDER)
    assert (rules.CONSENT_BY_PATIENT, rules.CONSENT_BY_REPRESENTATIVE) == (
        models.ConsentBy.PATIENT.value, models.ConsentBy.REPRESENTATIVE.value)
    assert rules.DECISION_GIVEN == models.ConsentDecision.GIVEN.value
    assert rules.PATIENT_REFUSED == models.PatientDecision.REFUSED.value
    assert set(rules.FERRITIN_TO_NG_ML) == set(models.FerritinUnit.values)


# --- central lab --------------------------------------------------------------------------------

CONSENTED = ConsentOnRecord(given=True, consented_at=NOW - dt.timedelta(hours=2))
SAMPLED = NOW - dt.timedelta(hours=1)


def lab(consent_on_record: ConsentOnRecord | None = CONSENTED, **values: object) -> dict[str, str]:
    base = LabEntry(ferritin=D("900"), ferritin_sampled_at=SAMPLED, ferritin_resulted_at=NOW,
                    hla_dr=3000, hla_dr_sampled_at=SAMPLED, hla_dr_resulted_at=NOW)
    return lab_problems(replace(base, **values), protocol=P, now=NOW, zone=UTC,  # type: ignore[arg-type]
                        consent=consent_on_record)


def test_a_complete_lab_result_after_consent_has_no_problem() -> None:
    assert lab() == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"ferritin": D("-0.1")}, "ferritin"),
        ({"ferritin": P.ferritin_max_ng_ml + D("0.1")}, "ferritin"),
        ({"ferritin": D("NaN")}, "ferritin"),
        ({"ferritin": 900.0}, "ferritin"),  # a float is not a measured decimal
        ({"hla_dr": -1}, "hla_dr"),
        ({"hla_dr": P.hla_dr_max_per_cell + 1}, "hla_dr"),
        ({"ferritin_sampled_at": None}, "ferritin_sampled_at"),
        ({"hla_dr_resulted_at": None}, "hla_dr_resulted_at"),
        ({"ferritin": None}, "ferritin"),  # a result time without the value
        ({"hla_dr_resulted_at": NOW + TICK}, "hla_dr_resulted_at"),
        ({"ferritin_resulted_at": SAMPLED - TICK}, "ferritin_resulted_at"),
    ],
)
def test_each_lab_problem_is_reported_on_its_field(values: dict[str, object], field: str) -> None:
    assert list(lab(**values)) == [field]


def test_lab_limits_are_inclusive() -> None:
    assert lab(ferritin=D("0"), hla_dr=0) == {}
    assert lab(ferritin=P.ferritin_max_ng_ml, hla_dr=P.hla_dr_max_per_cell) == {}


def test_a_sample_time_alone_is_enough_while_the_result_is_awaited() -> None:
    awaited = LabEntry(ferritin_sampled_at=SAMPLED)
    assert lab_problems(awaited, protocol=P, now=NOW, zone=UTC, consent=CONSENTED) == {}
    assert list(lab_problems(LabEntry(), protocol=P, now=NOW, zone=UTC, consent=CONSENTED)) == ["ferritin"]


def test_samples_are_taken_after_consent() -> None:
    at_consent = CONSENTED.consented_at
    assert lab(ferritin_sampled_at=at_consent, hla_dr_sampled_at=at_consent) == {}
    early = lab(hla_dr_sampled_at=at_consent - TICK)
    assert list(early) == ["hla_dr_sampled_at"]  # the earliest sample carries the message
    assert "consent was given at 2026-11-20 10:00 UTC" in early["hla_dr_sampled_at"]
    assert list(lab(None)) == ["ferritin_sampled_at"]
    assert list(lab(ConsentOnRecord(given=False, consented_at=at_consent))) == ["ferritin_sampled_at"]


# --- units and the phenotype edge -------------------------------------------------------------


def test_ferritin_units() -> None:
    assert ferritin_ng_ml(D("4420"), "ug/L") == D("4420")
    assert ferritin_ng_ml(D("4420"), "ng/mL") == D("4420")
    assert ferritin_ng_ml(D("4420"), "") == D("4420")  # the form's default unit
    with pytest.raises(ValueError, match="Unknown ferritin unit 'mg/L'"):
        ferritin_ng_ml(D("4.42"), "mg/L")


@pytest.mark.parametrize(("ferritin", "unit", "hla_dr", "outcome"), [
    (D("4420"), "ug/L", 4999, "immunoparalysis"),
    (D("4420.0001"), "ug/L", 4999, "MALS"),
    (D("4420"), "ng/mL", 5000, "neither"),
    (D("4420.0001"), "ng/mL", 5000, "MALS"),
])
def test_phenotype_edges_after_unit_conversion(ferritin: Decimal, unit: str, hla_dr: int, outcome: str) -> None:
    assert classify_phenotype(ferritin_ng_ml(ferritin, unit), hla_dr).outcome == outcome
