from __future__ import annotations

import datetime as dt

import pytest

RANDOMIZED_AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)

# A complete day-1 set of raw values: P/F 200 on invasive ventilation (2... see expected below).
FULL_DAY = {
    "pao2": "80", "pao2_unit": "mmHg", "fio2": "0.40", "respiratory_support": "invasive",  # P/F 200 -> 2
    "platelets": "90",  # < 100 -> 2
    "bilirubin": "2.5", "bilirubin_unit": "mg/dL",  # [2.0, 6.0) -> 2
    "map": "65", "dopamine": "0", "dobutamine": "0", "epinephrine": "0", "norepinephrine": "0.05",  # -> 3
    "gcs": 13, "gcs_sedated": False,  # 13-14 -> 1
    "creatinine": "180", "creatinine_unit": "umol/L", "urine_output": "600",  # [171, 300) -> 2
}
FULL_DAY_SUBSCORES = {"respiration": 2, "coagulation": 2, "liver": 2, "cardiovascular": 3, "cns": 1, "renal": 2}


@pytest.fixture
def make_randomized(make_participant):
    counter = {"n": 0}

    def make(site=None, **kwargs):
        counter["n"] += 1
        return make_participant(site, randomized_at=RANDOMIZED_AT,
                                subject_id=kwargs.pop("subject_id", f"SUBJ-{counter['n']:04d}-{site.code if site else 'A'}"),
                                **kwargs)

    return make


@pytest.fixture
def randomized_a(make_randomized):
    return make_randomized()


@pytest.fixture
def sofa_totals():
    """Store SOFA days with given totals directly (the endpoint service reads stored totals;
    scoring from raw values is tested through the form)."""
    from ecrf.crf.models import EntryStatus
    from ecrf.sofa.models import SofaDay

    def make(participant, totals: dict[int, int], status: str = EntryStatus.SUBMITTED):
        rows = []
        for day, total in totals.items():
            row = SofaDay(participant=participant, day=day, total=total, status=status)
            row._change_reason = "test setup"
            row.save()
            rows.append(row)
        return rows

    return make


@pytest.fixture
def give_dose():
    from ecrf.crf.models import EntryStatus
    from ecrf.dosing.models import Administration

    def give(participant, at=None):
        row = Administration(participant=participant, route="iv", dose_number=1, given=True,
                             started_at=at or RANDOMIZED_AT + dt.timedelta(minutes=30), status=EntryStatus.SUBMITTED)
        row._change_reason = "test setup"
        row.save()
        return row

    return give


@pytest.fixture
def record_death():
    from ecrf.crf.models import EntryStatus
    from ecrf.outcomes.models import Death

    def die(participant, study_day: int):
        row = Death(participant=participant, died_at=RANDOMIZED_AT + dt.timedelta(days=study_day - 1), cause="septic shock",
                    study_day=study_day, status=EntryStatus.SUBMITTED)
        row._change_reason = "test setup"
        row.save()
        return row

    return die


@pytest.fixture
def inline_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """Run the on-commit re-derivation task in the test, as the worker would after the commit."""
    from ecrf.sofa import tasks

    monkeypatch.setattr(tasks.derive_participant_endpoints, "delay", tasks.derive_participant_endpoints)

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run
