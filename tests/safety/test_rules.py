"""The AE's pure rules (safety.rules): no database, the facts passed in."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from ecrf.crf.models import EntryStatus
from safety import rules
from safety.models import RELATED, SERIOUSNESS_CRITERIA, Grade, Outcome

TODAY = dt.date(2025, 6, 10)
NOW = dt.datetime(2025, 6, 10, 12, tzinfo=dt.UTC)


def _ae(**overrides):  # noqa: ANN003, ANN202
    fields = {"onset_date": dt.date(2025, 6, 1), "end_date": None, "aware_at": NOW, "grade": 2, "outcome": "recovering",
              "serious": False, "causality_iv": "possible", "causality_sc": "unlikely", "llt_code": None, "anemia": False,
              "hb_nadir_g_dl": None, "transfusion_units": None, "bleeding": False, "bleeding_site": "",
              "bleeding_severity": "", "bleeding_intervention": "", **{c: False for c in SERIOUSNESS_CRITERIA}}
    fields.update(overrides)
    return SimpleNamespace(**fields)


def test_the_rules_read_the_same_values_as_the_models():
    assert (rules.GRADE_DEATH, rules.FATAL, rules.RETRACTED) == (Grade.DEATH, Outcome.FATAL, EntryStatus.RETRACTED)
    assert rules.RELATED == RELATED and rules.SERIOUSNESS_CRITERIA == SERIOUSNESS_CRITERIA


def test_grade_5_needs_a_fatal_outcome_and_dates_after_a_recorded_death_are_refused():
    assert rules.ae_errors(_ae(), today=TODAY, now=NOW, coding=None, died=None) == {}
    errors = rules.ae_errors(_ae(grade=5), today=TODAY, now=NOW, coding=None, died=None)
    assert "fatal" in errors["grade"]
    errors = rules.ae_errors(_ae(onset_date=dt.date(2025, 6, 5)), today=TODAY, now=NOW, coding=None, died=dt.date(2025, 6, 4))
    assert "after the participant's recorded death (2025-06-04)" in errors["onset_date"]
    errors = rules.ae_errors(_ae(llt_code=1), today=TODAY, now=NOW, coding=None, died=None)
    assert "not a lowest level term" in errors["llt_code"]


def test_the_soft_death_check_and_treatment_emergence():
    fatal = {"status": "submitted", "grade": 5, "outcome": "fatal", "onset_date": dt.date(2025, 6, 1)}
    assert "enter the Death form" in rules.death_check(**fatal, died=None)
    assert rules.death_check(**fatal, died=dt.date(2025, 6, 3)) == ""
    assert rules.death_check(**{**fatal, "status": "retracted"}, died=None) == ""
    assert "before this AE's onset" in rules.death_check(**{**fatal, "grade": 2, "outcome": "recovering"}, died=dt.date(2025, 5, 30))
    first = dt.date(2025, 6, 2)
    assert rules.treatment_emergent(dt.date(2025, 6, 1), first, 30) is False
    assert rules.treatment_emergent(dt.date(2025, 7, 2), first, 30) is True
    assert rules.treatment_emergent(dt.date(2025, 7, 3), first, 30) is False
    assert rules.treatment_emergent(dt.date(2025, 6, 2), None, 30) is None


def test_coding_relatedness_and_the_protocol_exemption():
    coding = SimpleNamespace(llt_code=1, llt_name="x", current=True, pt_code=77, pt_name="Septic shock", soc_code=5, soc_name="Infections")
    derived = rules.derived_coding(causality_iv="probable", causality_sc="unlikely", coding=coding, exempt_pt_codes=(77,))
    assert (derived.related_iv, derived.related_sc, derived.pt_code, derived.soc_name) == (True, False, 77, "Infections")
    assert "Septic shock" in derived.exemption
    assert rules.derived_coding(causality_iv="", causality_sc="", coding=None, exempt_pt_codes=(77,)).related_iv is None
