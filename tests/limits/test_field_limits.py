"""Every numeric and date field a user enters on a CRF or clinical record has a hard limit,
declared on the model field (validators), so it holds through the form service, the admin and
the schema alike. The fields are enumerated from the models: a new field without an entry in
``LIMITS`` fails ``test_every_entered_number_and_date_is_in_the_table``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from ecrf.crf.models import CRF
from ecrf.study.limits import latest_today
from ecrf.study.models import Study

TRIAL = "trial"  # a clinical date or time: not before the trial's start, not in the future
PAST = "past"  # may precede the trial (a medication's start): from 1900, not in the future
D = Decimal

LIMITS: dict[tuple[str, str], object] = {
    ("screening.Screening", "sepsis3_at"): TRIAL,
    ("screening.Screening", "sofa_score_or_rise"): (0, 24),
    ("screening.Screening", "age"): (0, 120),
    ("screening.Screening", "neutrophils_per_mm3"): (0, 500000),
    ("screening.Screening", "corticosteroid_mg_per_day"): (D(0), D(10000)),
    ("screening.Consent", "consented_at"): TRIAL,
    ("screening.CentralLabResult", "ferritin"): (D(0), D(2000000)),
    ("screening.CentralLabResult", "ferritin_sampled_at"): TRIAL,
    ("screening.CentralLabResult", "ferritin_resulted_at"): TRIAL,
    ("screening.CentralLabResult", "hla_dr"): (0, 500000),
    ("screening.CentralLabResult", "hla_dr_sampled_at"): TRIAL,
    ("screening.CentralLabResult", "hla_dr_resulted_at"): TRIAL,
    ("dosing.Administration", "dose_number"): (1, 100),
    ("dosing.Administration", "started_at"): TRIAL,
    ("dosing.Administration", "duration_minutes"): (0, 1440),
    ("dosing.Administration", "volume_ml"): (D("0.01"), D(100)),
    ("dosing.Administration", "interruption_minutes"): (0, 1440),
    ("dosing.Discontinuation", "discontinued_on"): TRIAL,
    ("labs.CentralLab", "day"): (0, 366),
    ("labs.CentralLab", "sample_time"): TRIAL,
    ("labs.CentralLab", "ferritin"): (D(0), D(2000000)),
    ("labs.CentralLab", "hla_dr"): (0, 500000),
    ("labs.LabPanel", "day"): (0, 366),
    ("labs.LabPanel", "sample_time"): TRIAL,
    # Widest over the units each analyte takes (the unit given is checked by LabPanel.clean).
    **{("labs.LabPanel", f"{a}{s}"): limits for a, limits in {
        "hemoglobin": (D(0), D(250)),  # 25 g/dL = 250 g/L
        "white_cells": (D(0), D(1000000)),  # 1000 x10^9/L = 1,000,000 /mm3
        "neutrophils": (D(0), D(1000000)),
        "platelets": (D(0), D(5000000)),
        "bilirubin": (D(0), D(1710)),  # 100 mg/dL = 1710 umol/L
        "creatinine": (D(0), D("7072")),  # 80 mg/dL = 7072 umol/L
    }.items() for s in ("", "_low", "_high")},
    ("medications.ConcomitantMedication", "dose"): (D(0), D("9999999.999")),
    ("medications.ConcomitantMedication", "started_on"): PAST,
    ("medications.ConcomitantMedication", "stopped_on"): TRIAL,
    ("medications.ConcomitantMedication", "hydrocortisone_mg_per_day"): (D(0), D(10000)),
    ("outcomes.Death", "died_at"): TRIAL,
    ("outcomes.VitalStatus", "day"): (1, 366),
    ("outcomes.VitalStatus", "assessed_on"): TRIAL,
    ("outcomes.VitalStatus", "last_contact_date"): TRIAL,
    ("outcomes.NewInfection", "onset_date"): TRIAL,
    ("outcomes.EndOfStudy", "disposition_date"): TRIAL,
    ("deviations.Deviation", "occurred_on"): TRIAL,
    ("sofa.SofaDay", "day"): (1, 15),
    ("sofa.SofaDay", "pao2"): (D("2.0"), D(800)),  # 2.0 kPa .. 800 mmHg
    ("sofa.SofaDay", "fio2"): (D("0.21"), D("1.0")),
    ("sofa.SofaDay", "platelets"): (D(0), D(2000)),
    ("sofa.SofaDay", "bilirubin"): (D(0), D(1710)),
    ("sofa.SofaDay", "map"): (D(20), D(250)),
    ("sofa.SofaDay", "dopamine"): (D(0), D(50)),
    ("sofa.SofaDay", "dobutamine"): (D(0), D(40)),
    ("sofa.SofaDay", "epinephrine"): (D(0), D(5)),
    ("sofa.SofaDay", "norepinephrine"): (D(0), D(5)),
    ("sofa.SofaDay", "gcs"): (3, 15),
    ("sofa.SofaDay", "creatinine"): (D(0), D(2652)),
    ("sofa.SofaDay", "urine_output"): (D(0), D(20000)),
    ("safety.AdverseEvent", "llt_code"): (10000000, 99999999),
    ("safety.AdverseEvent", "onset_date"): TRIAL,
    ("safety.AdverseEvent", "end_date"): TRIAL,
    ("safety.AdverseEvent", "grade"): (1, 5),  # a choice: CTCAE grades 1-5
    ("safety.AdverseEvent", "aware_at"): TRIAL,
    ("safety.AdverseEvent", "hb_nadir_g_dl"): (D("0.1"), D("25.0")),
    ("safety.AdverseEvent", "transfusion_units"): (0, 500),
    # Clinical records entered outside the CRF base.
    ("safety.Submission", "submitted_at"): TRIAL,
    ("safety.AdjudicationReview", "llt_code"): (10000000, 99999999),
}
# Entered by users although the model is not a CRF.
CLINICAL_ENTRY_FIELDS = {("safety.Submission", "submitted_at"), ("safety.AdjudicationReview", "llt_code")}
NUMERIC = (models.IntegerField, models.DecimalField, models.FloatField)
DATES = (models.DateField,)  # DateTimeField is a DateField


def entered_fields() -> set[tuple[str, str]]:
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith(("ecrf.", "safety.")) or model._meta.label.split(".")[1].startswith("Historical"):
            continue
        for field in model._meta.concrete_fields:
            key = (model._meta.label, field.name)
            if not isinstance(field, NUMERIC + DATES) or field.primary_key:
                continue
            # CRF entry fields: editable ones (derived and system fields are not editable);
            # the row version is the concurrency counter, not data.
            if (issubclass(model, CRF) and field.editable and field.name != "version") or key in CLINICAL_ENTRY_FIELDS:
                found.add(key)
    return found


def field_of(key: tuple[str, str]) -> models.Field:
    return apps.get_model(key[0])._meta.get_field(key[1])


def test_every_entered_number_and_date_is_in_the_table():
    found = entered_fields()
    assert found - set(LIMITS) == set(), "fields without a declared hard limit"
    assert set(LIMITS) - found == set(), "table entries for fields that are not entered"


def _declared_range(field: models.Field) -> tuple[object, object]:
    if field.choices:
        values = [v for v, _ in field.choices]
        return min(values), max(values)
    lows = [v.limit_value for v in field.validators if isinstance(v, MinValueValidator)]
    highs = [v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)]
    return max(lows), min(highs)


def _step(field: models.Field) -> Decimal | int:
    return Decimal(1).scaleb(-field.decimal_places) if isinstance(field, models.DecimalField) else 1


NUMERIC_KEYS = sorted(k for k, v in LIMITS.items() if isinstance(v, tuple))
DATE_KEYS = sorted(k for k, v in LIMITS.items() if not isinstance(v, tuple))


@pytest.mark.parametrize("key", NUMERIC_KEYS, ids=lambda k: f"{k[0]}.{k[1]}")
def test_numeric_hard_limits_refuse_beyond_and_accept_the_edges(key):
    field, (low, high) = field_of(key), LIMITS[key]
    assert _declared_range(field) == (low, high)
    step = _step(field)
    field.clean(low, None)
    field.clean(high, None)
    for impossible in (low - step, high + step):
        with pytest.raises(ValidationError):
            field.clean(impossible, None)


@pytest.fixture
def study_from_2024(db):
    # The trial's start comes from the protocol configuration, not a literal.
    return Study.objects.create(code="LIMITS", title="Limits", protocol_overrides={"study_start_date": "2024-02-01"})


@pytest.mark.parametrize("key", DATE_KEYS, ids=lambda k: f"{k[0]}.{k[1]}")
def test_date_limits_refuse_before_the_trial_and_the_future(key, study_from_2024):
    field = field_of(key)
    is_time = isinstance(field, models.DateTimeField)
    earliest = dt.date(1900, 1, 1) if LIMITS[key] == PAST else dt.date(2024, 2, 1)

    def value(day: dt.date) -> object:
        return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) if is_time else day

    field.run_validators(value(earliest))
    with pytest.raises(ValidationError):
        field.run_validators(value(earliest - dt.timedelta(days=2)))
    now = timezone.now()
    field.run_validators(now if is_time else latest_today())
    with pytest.raises(ValidationError, match="future"):
        field.run_validators(now + dt.timedelta(hours=1) if is_time else latest_today() + dt.timedelta(days=1))


def test_the_study_start_is_read_from_the_configuration(study_from_2024):
    field = field_of(("deviations.Deviation", "occurred_on"))
    field.run_validators(dt.date(2024, 2, 1))
    with pytest.raises(ValidationError, match="before the start of the trial \\(2024-02-01\\)"):
        field.run_validators(dt.date(2024, 1, 31))
    study_from_2024.protocol_overrides = {"study_start_date": "2023-01-01"}
    study_from_2024.save()
    field.run_validators(dt.date(2024, 1, 31))


def test_a_study_start_that_is_not_a_date_is_refused_in_the_configuration(study_from_2024):
    study_from_2024.protocol_overrides = {"study_start_date": "first of May"}
    with pytest.raises(ValidationError, match="study_start_date"):
        study_from_2024.full_clean()
