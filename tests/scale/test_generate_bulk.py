"""``generate_trial`` at scale (the bulk path): the rows it inserts in batches carry the same
derived values as a form save, each has its chained history, ``verify_audit`` accepts them, the
edit-check sweep runs on them; and the generator never dies on dates near now, nor enters one
ahead of it, for several sizes, seeds and times of day.

The showcase steps that run through the services on a sample (preparations, adverse events,
review) are skipped here: tests/crf/test_synthetic_pipeline.py runs them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.db import models
from django.utils import timezone

from ecrf.audit.integrity import audited_pairs, verify_chain
from ecrf.crf.management.commands.generate_trial import generate
from ecrf.crf.models import Participant
from ecrf.crf.registry import all_specs
from ecrf.dosing.hooks import validate_administration
from ecrf.dosing.models import Administration
from ecrf.queries.models import CheckRun
from ecrf.schedule.days import day_of_moment
from ecrf.schedule.synthetic_plan import has_come, not_in_future, today_for
from ecrf.screening.models import Screening
from ecrf.screening.services import compute_outcome
from ecrf.sofa import derivation
from ecrf.sofa.models import SofaDay, SofaEndpoint
from ecrf.sofa.services import endpoints_rederive

SHOWCASE = ("ecrf.pharmacy", "safety", "ecrf.review")


@pytest.mark.django_db
def test_a_bulk_trial_has_the_services_derivations_and_a_whole_audit_trail():
    ctx = generate(participants=12, seed=1, bulk=True, skip=SHOWCASE)
    randomized = list(Participant.objects.filter(randomized_at__isnull=False).select_related("site"))
    assert len(randomized) == 12
    assert Screening.objects.filter(eligibility="not_eligible").exists()  # screen failures too

    # The audit trail: every chain and head verifies, every live audited row equals its latest
    # history row (so none lacks one); a bulk row's history names who entered it and why.
    report = verify_chain()
    assert report.ok, str(report.broken)
    for live, history in audited_pairs():
        assert history._base_manager.count() >= live._base_manager.count(), live._meta.db_table
    first = Administration.objects.order_by("pk").first()
    created = first.history.order_by("history_id").first()
    assert (created.history_type, created.history_change_reason) == ("+", "Created and submitted")
    assert created.history_user_id == first.created_by_id is not None

    # SOFA: the stored scores are what the services' re-scoring of the series gives from the same
    # raw values (missing components carried forward from the last observed day).
    days = list(SofaDay.objects.all())
    assert days and all(d.total is not None for d in days)
    fresh = {d.pk: SofaDay(**{f.attname: getattr(d, f.attname) for f in SofaDay._meta.concrete_fields}) for d in days}
    for copy in fresh.values():
        derivation._clear(copy)
    by_participant: dict[int, list[SofaDay]] = {}
    for copy in fresh.values():
        by_participant.setdefault(copy.participant_id, []).append(copy)
    for series in by_participant.values():
        derivation.rescore_series(series)
    assert {d.pk: derivation.derived_snapshot(d) for d in days} == {pk: derivation.derived_snapshot(c) for pk, c in fresh.items()}
    assert any(d.imputed_components for d in days)  # the carry-forward was exercised

    # Dosing: the study day is the spec's derivation, and the dosing hook that reads the whole
    # record from the database finds nothing wrong with any row the bulk path judged in memory.
    doses = list(Administration.objects.select_related("participant__site"))
    assert len(doses) > 12 * 30
    assert all(a.study_day == (day_of_moment(a.participant, a.started_at) if a.started_at else None) for a in doses)
    assert [a.pk for a in doses[::5] if validate_administration(a)] == []

    # Screening outcomes derived from the consent and central lab on record; endpoints for all.
    for screening in Screening.objects.all():
        result, _ = compute_outcome(screening, as_randomized=screening.phenotype_fixed_at is not None)
        assert (screening.eligibility, screening.phenotype) == (result.eligibility, result.phenotype)
    assert SofaEndpoint.objects.count() == 12
    assert endpoints_rederive().changed == 0  # the stored endpoints are a fresh derivation's

    # The edit-check sweep ran over the bulk data (the queries step).
    run = CheckRun.objects.get()
    assert run.checks_total > 0
    assert "ecrf.queries" in ctx.timings


def _future_values() -> list[str]:
    """Every date after today and time after now in any form's entered fields."""
    now, today = timezone.now(), timezone.localdate()
    found = []
    for spec in all_specs():
        for name in spec.fields:
            field = spec.model._meta.get_field(name)
            if isinstance(field, models.DateTimeField):
                limit = now
            elif isinstance(field, models.DateField):
                limit = today
            else:
                continue
            later = spec.model.objects.filter(**{f"{name}__gt": limit}).values_list(name, flat=True).first()
            if later is not None:
                found.append(f"{spec.key}.{name} = {later}")
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(("size", "seed", "now"), [
    (3, 1, "2026-11-30 23:40Z"),  # the sites' dates are a day ahead of the server's
    (8, 2, "2026-12-01 00:20Z"),
    (8, 3, "2026-12-01 12:00Z"),
])
def test_the_bulk_generator_never_dies_on_dates_near_now(size, seed, now):
    with time_machine.travel(dt.datetime.fromisoformat(now), tick=False):
        generate(participants=size, seed=seed, bulk=True, skip=(*SHOWCASE, "ecrf.queries"))
        assert Participant.objects.filter(randomized_at__isnull=False).count() == size
        assert _future_values() == []


@pytest.mark.parametrize(("now", "zone", "expected"), [
    ("2026-11-30 23:40Z", "Europe/Athens", "2026-11-30"),  # the site is already on 1 December
    ("2026-12-01 02:00Z", "America/New_York", "2026-11-30"),  # the site is still on 30 November
    ("2026-12-01 12:00Z", "Europe/Rome", "2026-12-01"),
])
def test_the_generator_enters_no_date_after_today_at_the_server_or_at_the_site(now, zone, expected):
    participant = SimpleNamespace(site=SimpleNamespace(time_zone=zone))
    day = dt.date.fromisoformat(expected)
    with time_machine.travel(dt.datetime.fromisoformat(now), tick=False):
        assert today_for(participant) == day
        assert not has_come(day + dt.timedelta(days=1), participant)
        assert not_in_future(day + dt.timedelta(days=3), participant) == day
