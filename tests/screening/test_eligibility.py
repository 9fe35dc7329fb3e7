"""Screening eligibility and immune phenotype (trial.md "Who is screened", "Immune phenotype")."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.screening.eligibility import (
    COMPUTED_EXCLUSIONS,
    EXCLUSION_CODES,
    EXCLUSION_CRITERIA,
    REASON_LABELS,
    ScreeningFacts,
    assess_eligibility,
    classify_phenotype,
    reason_label,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL

D = Decimal
FLAG_CODES = [code for code in EXCLUSION_CODES if code not in COMPUTED_EXCLUSIONS]


def eligible_facts(**overrides: object) -> ScreeningFacts:
    """A complete, eligible immunoparalysis patient; tests change one thing at a time."""
    base = ScreeningFacts(
        age=64,
        sepsis3_met=True,
        admission_route="emergency_department",
        sofa_score_or_rise=6,
        infection_source="CAP",
        exclusions={code: False for code in FLAG_CODES},
        neutrophils_per_mm3=9000,
        corticosteroid_hydrocortisone_mg_per_day=D("0"),
        covid19=False,
        consent_given=True,
        ferritin=D("900"),
        hla_dr=3200,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


# --- phenotype: the boundary table ------------------------------------------------------------


@pytest.mark.parametrize(
    ("ferritin", "hla_dr", "outcome", "awaiting"),
    [
        # Ferritin boundary: exactly 4420 is not MALS; 4420.01 is.
        (D("4420"), 6000, "neither", ()),
        (D("4420"), 4999, "immunoparalysis", ()),
        (D("4420.01"), 6000, "MALS", ()),
        (D("4420.01"), None, "MALS", ()),
        # HLA-DR boundary: exactly 5000 is not immunoparalysis; 4999 is.
        (D("1000"), 5000, "neither", ()),
        (D("1000"), 4999, "immunoparalysis", ()),
        (D("1000"), D("4999.9"), "immunoparalysis", ()),
        (D("1000"), D("5000.0"), "neither", ()),
        # Both definitions met (ferritin > 4420 and HLA-DR < 5000): MALS.
        (D("9000"), 1200, "MALS", ()),
        # Missing values.
        (D("4420"), None, "pending", ("hla_dr",)),
        (D("100"), None, "pending", ("hla_dr",)),
        (D("5000"), None, "MALS", ()),
        (None, 1200, "pending", ("ferritin",)),
        (None, 9000, "pending", ("ferritin",)),
        (None, None, "pending", ("ferritin", "hla_dr")),
        # Extremes.
        (D("0"), 0, "immunoparalysis", ()),
        (4421, 100000, "MALS", ()),
    ],
)
def test_phenotype_boundaries(
    ferritin: Decimal | None, hla_dr: int | Decimal | None, outcome: str, awaiting: tuple[str, ...]
) -> None:
    result = classify_phenotype(ferritin, hla_dr, protocol=DEFAULT_PROTOCOL)
    assert result.outcome == outcome
    assert result.awaiting == awaiting


def test_phenotype_thresholds_come_from_the_protocol() -> None:
    protocol = replace(
        DEFAULT_PROTOCOL, ferritin_mals_threshold=D("3000"), hla_dr_immunoparalysis_threshold=4000
    )
    assert classify_phenotype(D("3000.5"), 9000, protocol=protocol).outcome == "MALS"
    assert classify_phenotype(D("3000"), 4000, protocol=protocol).outcome == "neither"
    assert classify_phenotype(D("3000"), 3999, protocol=protocol).outcome == "immunoparalysis"


@pytest.mark.parametrize(
    ("ferritin", "hla_dr"),
    [(D("-1"), 100), (D("100"), -5), (D("NaN"), 100), (D("Infinity"), 100), (1.5, 100), (1, True)],
)
def test_phenotype_rejects_impossible_values(ferritin: object, hla_dr: object) -> None:
    # Floats (inexact) and bools are TypeError; negative or non-finite numbers ValueError.
    with pytest.raises((ValueError, TypeError)):
        classify_phenotype(ferritin, hla_dr)  # type: ignore[arg-type]


lab_value = st.one_of(st.none(), st.decimals(min_value=0, max_value=100000, places=2))
hla_value = st.one_of(st.none(), st.integers(min_value=0, max_value=100000))


@settings(deadline=None)
@given(ferritin=lab_value, hla_dr=hla_value)
def test_phenotype_properties(ferritin: Decimal | None, hla_dr: int | None) -> None:
    result = classify_phenotype(ferritin, hla_dr)
    # Exactly one outcome; the two definitions never both apply (MALS takes precedence).
    assert result.outcome in {"MALS", "immunoparalysis", "neither", "pending"}
    is_mals = ferritin is not None and ferritin > DEFAULT_PROTOCOL.ferritin_mals_threshold
    assert (result.outcome == "MALS") == is_mals
    if result.outcome == "immunoparalysis":
        assert ferritin is not None and hla_dr is not None
        assert ferritin <= 4420 and hla_dr < 5000
    assert (result.outcome == "pending") == bool(result.awaiting)
    # A phenotype is only returned for MALS or immunoparalysis.
    assert result.phenotype in {None, "MALS", "immunoparalysis"}
    # Only MALS is decided without HLA-DR, and then no HLA-DR value can change it.
    if hla_dr is None and result.outcome != "pending":
        assert result.outcome == "MALS"
        assert classify_phenotype(ferritin, 0).outcome == "MALS"


# --- eligibility ------------------------------------------------------------------------------


def test_complete_eligible_patient() -> None:
    result = assess_eligibility(eligible_facts())
    assert result.eligibility == "eligible"
    assert result.phenotype == "immunoparalysis"
    assert result.reasons == ()
    assert result.pending == ()


def test_mals_patient_is_eligible_with_phenotype() -> None:
    result = assess_eligibility(eligible_facts(ferritin=D("8000"), hla_dr=None))
    assert result.eligibility == "eligible"
    assert result.phenotype == "MALS"


@pytest.mark.parametrize(
    ("age", "expected"), [(17, "not_eligible"), (18, "eligible"), (0, "not_eligible")]
)
def test_age(age: int, expected: str) -> None:
    result = assess_eligibility(eligible_facts(age=age))
    assert result.eligibility == expected
    assert ("age_under_18" in result.reasons) == (expected == "not_eligible")


@pytest.mark.parametrize("route", ["emergency_department", "hospitalised"])
@pytest.mark.parametrize(("sofa", "met"), [(0, False), (1, False), (2, True), (3, True)])
def test_sepsis3_routes(route: str, sofa: int, met: bool) -> None:
    # Sepsis-3: SOFA >= 2 on admission from the ED, or a rise >= 2 in a hospitalised patient.
    result = assess_eligibility(eligible_facts(admission_route=route, sofa_score_or_rise=sofa))
    assert result.eligibility == ("eligible" if met else "not_eligible")
    assert ("sepsis3_not_met" in result.reasons) == (not met)


def test_sepsis3_attested_false_fails_whatever_the_sofa() -> None:
    result = assess_eligibility(eligible_facts(sepsis3_met=False))
    assert result.eligibility == "not_eligible"
    assert result.reasons == ("sepsis3_not_met",)


def test_sepsis3_reported_once_when_both_fail() -> None:
    result = assess_eligibility(eligible_facts(sepsis3_met=False, sofa_score_or_rise=1))
    assert result.reasons == ("sepsis3_not_met",)


@pytest.mark.parametrize("missing", ["sepsis3_met", "admission_route", "sofa_score_or_rise"])
def test_sepsis3_unanswered_is_pending(missing: str) -> None:
    result = assess_eligibility(eligible_facts(**{missing: None}))
    assert result.eligibility == "pending"
    assert result.pending == (missing,)


@pytest.mark.parametrize(
    ("source", "eligible"),
    [("CAP", True), ("HAP", True), ("VAP", True), ("BSI", True), ("other", False)],
)
def test_infection_source(source: str, eligible: bool) -> None:
    result = assess_eligibility(eligible_facts(infection_source=source))
    assert result.eligibility == ("eligible" if eligible else "not_eligible")
    assert ("infection_source_not_eligible" in result.reasons) == (not eligible)


def test_phenotype_neither_is_a_screen_failure() -> None:
    result = assess_eligibility(eligible_facts(ferritin=D("4420"), hla_dr=5000))
    assert result.eligibility == "not_eligible"
    assert result.reasons == ("phenotype_neither",)
    assert result.phenotype is None


@pytest.mark.parametrize(
    ("ferritin", "hla_dr", "pending"),
    [
        (None, None, ("ferritin", "hla_dr")),
        (D("4420"), None, ("hla_dr",)),
        (None, 9000, ("ferritin",)),
    ],
)
def test_phenotype_awaited_is_pending(
    ferritin: Decimal | None, hla_dr: int | None, pending: tuple[str, ...]
) -> None:
    result = assess_eligibility(eligible_facts(ferritin=ferritin, hla_dr=hla_dr))
    assert result.eligibility == "pending"
    assert result.pending == pending
    assert result.phenotype is None


@pytest.mark.parametrize("code", FLAG_CODES)
def test_every_flag_exclusion(code: str) -> None:
    exclusions = {c: False for c in FLAG_CODES} | {code: True}
    result = assess_eligibility(eligible_facts(exclusions=exclusions))
    assert result.eligibility == "not_eligible"
    assert result.reasons == (f"excl_{code}",)
    assert f"excl_{code}" in REASON_LABELS


@pytest.mark.parametrize("code", FLAG_CODES)
def test_every_flag_exclusion_unanswered_is_pending(code: str) -> None:
    exclusions: dict[str, bool | None] = {c: False for c in FLAG_CODES}
    exclusions[code] = None
    result = assess_eligibility(eligible_facts(exclusions=exclusions))
    assert result.eligibility == "pending"
    assert result.pending == (f"exclusion:{code}",)
    # A missing key is the same as None: a typo in a code can't make a patient eligible.
    del exclusions[code]
    assert assess_eligibility(eligible_facts(exclusions=exclusions)).pending == (
        f"exclusion:{code}",
    )


@pytest.mark.parametrize(
    ("neutrophils", "excluded"), [(999, True), (1000, False), (0, True), (1500, False)]
)
def test_neutropenia_threshold(neutrophils: int, excluded: bool) -> None:
    # Neutropenia: strictly below protocol.neutrophil_min_per_mm3 (default 1000) is excluded.
    result = assess_eligibility(eligible_facts(neutrophils_per_mm3=neutrophils))
    assert ("neutropenia" in result.reasons) == excluded
    assert result.eligibility == ("not_eligible" if excluded else "eligible")


def test_neutropenia_threshold_is_configurable() -> None:
    protocol = replace(DEFAULT_PROTOCOL, neutrophil_min_per_mm3=1500)
    result = assess_eligibility(eligible_facts(neutrophils_per_mm3=1499), protocol=protocol)
    assert result.reasons == ("neutropenia",)
    result = assess_eligibility(eligible_facts(neutrophils_per_mm3=1500), protocol=protocol)
    assert result.eligibility == "eligible"


@pytest.mark.parametrize(
    ("dose", "excluded"), [(D("200"), False), (D("200.5"), True), (D("0"), False), (300, True)]
)
def test_corticosteroid_threshold(dose: Decimal, excluded: bool) -> None:
    # Corticosteroids: strictly above the configured daily hydrocortisone-equivalent dose.
    result = assess_eligibility(eligible_facts(corticosteroid_hydrocortisone_mg_per_day=dose))
    assert ("corticosteroids_above_threshold" in result.reasons) == excluded
    assert result.eligibility == ("not_eligible" if excluded else "eligible")


@pytest.mark.parametrize(
    ("field_name", "pending"),
    [
        ("neutrophils_per_mm3", "neutrophils_per_mm3"),
        ("corticosteroid_hydrocortisone_mg_per_day", "corticosteroid_hydrocortisone_mg_per_day"),
        ("age", "age"),
        ("infection_source", "infection_source"),
        ("consent_given", "consent_given"),
    ],
)
def test_unanswered_fields_are_pending(field_name: str, pending: str) -> None:
    result = assess_eligibility(eligible_facts(**{field_name: None}))
    assert result.eligibility == "pending"
    assert result.pending == (pending,)


def test_computed_exclusions_can_be_configured_off() -> None:
    facts = eligible_facts(neutrophils_per_mm3=10, corticosteroid_hydrocortisone_mg_per_day=None)
    assert assess_eligibility(facts).eligibility == "not_eligible"
    codes = [c for c in EXCLUSION_CODES if c not in COMPUTED_EXCLUSIONS]
    assert assess_eligibility(facts, exclusion_codes=codes).eligibility == "eligible"


def test_study_configured_extra_exclusion() -> None:
    codes = [*EXCLUSION_CODES, "pregnancy"]
    facts = eligible_facts()
    assert assess_eligibility(facts, exclusion_codes=codes).pending == ("exclusion:pregnancy",)
    flags = {**facts.exclusions, "pregnancy": True}
    result = assess_eligibility(eligible_facts(exclusions=flags), exclusion_codes=codes)
    assert result.reasons == ("excl_pregnancy",)
    assert reason_label("excl_pregnancy") == "Exclusion criterion met: pregnancy"


def test_answers_for_unconfigured_criteria_are_ignored() -> None:
    codes = [c for c in EXCLUSION_CODES if c != "dnr"]
    flags = {c: False for c in FLAG_CODES} | {"dnr": True}
    result = assess_eligibility(eligible_facts(exclusions=flags), exclusion_codes=codes)
    assert result.eligibility == "eligible"


def test_no_consent() -> None:
    result = assess_eligibility(eligible_facts(consent_given=False))
    assert result.eligibility == "not_eligible"
    assert result.reasons == ("no_consent",)


# --- COVID-19: MALS only (protocol.covid_mals_only) --------------------------------------------


def test_covid_mals_is_eligible() -> None:
    result = assess_eligibility(eligible_facts(covid19=True, ferritin=D("5000"), hla_dr=1000))
    assert result.eligibility == "eligible"
    assert result.phenotype == "MALS"


def test_covid_immunoparalysis_is_not_eligible() -> None:
    result = assess_eligibility(eligible_facts(covid19=True))
    assert result.eligibility == "not_eligible"
    assert result.reasons == ("covid19_not_mals",)
    assert result.phenotype == "immunoparalysis"


def test_covid_with_ferritin_at_most_4420_fails_before_hla_dr_arrives() -> None:
    result = assess_eligibility(eligible_facts(covid19=True, ferritin=D("4420"), hla_dr=None))
    assert result.eligibility == "not_eligible"
    assert result.reasons == ("covid19_not_mals",)
    assert result.pending == ("hla_dr",)


def test_covid_with_ferritin_awaited_is_pending() -> None:
    result = assess_eligibility(eligible_facts(covid19=True, ferritin=None))
    assert result.eligibility == "pending"
    assert result.pending == ("ferritin",)


def test_covid_neither_reports_both_reasons() -> None:
    result = assess_eligibility(eligible_facts(covid19=True, ferritin=D("100"), hla_dr=9000))
    assert result.reasons == ("phenotype_neither", "covid19_not_mals")


def test_covid_rule_off() -> None:
    protocol = replace(DEFAULT_PROTOCOL, covid_mals_only=False)
    result = assess_eligibility(eligible_facts(covid19=True), protocol=protocol)
    assert result.eligibility == "eligible"
    # The COVID-19 answer doesn't matter then, so it isn't awaited.
    result = assess_eligibility(eligible_facts(covid19=None), protocol=protocol)
    assert result.eligibility == "eligible"


def test_covid_answer_awaited_only_when_it_matters() -> None:
    # Immunoparalysis: COVID-19 would exclude, so the answer is needed.
    assert assess_eligibility(eligible_facts(covid19=None)).pending == ("covid19",)
    # MALS: COVID-19 or not, the patient may enter.
    mals = eligible_facts(covid19=None, ferritin=D("9000"))
    assert assess_eligibility(mals).eligibility == "eligible"


# --- combined ---------------------------------------------------------------------------------


def test_definite_failure_wins_over_pending_and_all_reasons_are_listed() -> None:
    flags: dict[str, bool | None] = {c: None for c in FLAG_CODES} | {"dnr": True}
    facts = eligible_facts(
        age=16,
        infection_source="other",
        exclusions=flags,
        neutrophils_per_mm3=200,
        consent_given=False,
        ferritin=None,
    )
    result = assess_eligibility(facts)
    assert result.eligibility == "not_eligible"
    assert result.reasons == (
        "age_under_18",
        "infection_source_not_eligible",
        "excl_dnr",
        "neutropenia",
        "no_consent",
    )
    assert "ferritin" in result.pending
    assert all(reason_label(r) != r for r in result.reasons)


def test_empty_facts_are_pending() -> None:
    result = assess_eligibility(ScreeningFacts())
    assert result.eligibility == "pending"
    assert result.reasons == ()
    assert {"age", "ferritin", "hla_dr", "consent_given", "exclusion:dnr"} <= set(result.pending)


def test_labels_cover_the_default_criteria() -> None:
    assert len(EXCLUSION_CODES) == len(set(EXCLUSION_CODES)) == len(EXCLUSION_CRITERIA)
    for code in FLAG_CODES:
        assert f"excl_{code}" in REASON_LABELS
    for code in ("neutropenia", "corticosteroids_above_threshold", "covid19_not_mals"):
        assert code in REASON_LABELS


@pytest.mark.parametrize(
    "bad",
    [
        {"admission_route": "ward"},
        {"infection_source": "UTI"},
        {"age": -1},
        {"neutrophils_per_mm3": -1},
        {"corticosteroid_hydrocortisone_mg_per_day": D("-5")},
        {"ferritin": D("NaN")},
    ],
)
def test_facts_reject_impossible_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        eligible_facts(**bad)


def test_facts_are_a_snapshot() -> None:
    flags = {c: False for c in FLAG_CODES}
    facts = eligible_facts(exclusions=flags)
    flags["dnr"] = True
    assert assess_eligibility(facts).eligibility == "eligible"


optional_bool = st.one_of(st.none(), st.booleans())


@st.composite
def screening_facts(draw: st.DrawFn) -> ScreeningFacts:
    return ScreeningFacts(
        age=draw(st.one_of(st.none(), st.integers(0, 110))),
        sepsis3_met=draw(optional_bool),
        admission_route=draw(st.sampled_from([None, "emergency_department", "hospitalised"])),
        sofa_score_or_rise=draw(st.one_of(st.none(), st.integers(0, 24))),
        infection_source=draw(st.sampled_from([None, "CAP", "HAP", "VAP", "BSI", "other"])),
        exclusions={c: draw(st.sampled_from([None, False, False, True])) for c in FLAG_CODES},
        neutrophils_per_mm3=draw(st.one_of(st.none(), st.integers(0, 30000))),
        corticosteroid_hydrocortisone_mg_per_day=draw(
            st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=1))
        ),
        covid19=draw(optional_bool),
        consent_given=draw(optional_bool),
        ferritin=draw(lab_value),
        hla_dr=draw(hla_value),
    )


@settings(deadline=None)
@given(facts=screening_facts())
def test_eligibility_properties(facts: ScreeningFacts) -> None:
    result = assess_eligibility(facts)
    # The three outcomes follow the rule: failure > pending > eligible.
    assert (result.eligibility == "not_eligible") == bool(result.reasons)
    if result.eligibility == "pending":
        assert result.pending
    if result.eligibility == "eligible":
        assert result.pending == ()
        # Eligible means a phenotype is known and each criterion was answered and passed.
        assert result.phenotype in {"MALS", "immunoparalysis"}
        assert facts.consent_given is True and facts.age is not None and facts.age >= 18
        assert facts.infection_source in {"CAP", "HAP", "VAP", "BSI"}
        assert all(facts.exclusions[c] is False for c in FLAG_CODES)
        if facts.covid19:
            assert result.phenotype == "MALS"
    # Phenotype is never both: it is the classifier's single answer.
    assert result.phenotype == classify_phenotype(facts.ferritin, facts.hla_dr).phenotype
    assert len(set(result.reasons)) == len(result.reasons)
    assert all(reason_label(r) for r in result.reasons)
