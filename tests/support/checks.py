"""Running one edit check in a test: its problems, and proof that its rule is one set-based query
whose SQL the queries app can wrap (``INSERT ... SELECT``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ecrf.crf.checks import TARGET_COLUMNS, CheckScope, Target, evaluate, get_check
from ecrf.crf.models import Participant


def scope(*participants: Any, now: dt.datetime | None = None) -> CheckScope:
    """A run over ``participants`` (all participants when none is given) at ``now``."""
    qs = Participant.objects.all()
    if participants:
        qs = qs.filter(pk__in=[p.pk for p in participants])
    return CheckScope(participants=qs, now=now or timezone.now())


def run(code: str, *participants: Any, now: dt.datetime | None = None) -> list[Target]:
    """The problems check ``code`` finds, asserting on the way that its rule compiles to one SQL
    statement with the target columns, and that it reads the data with one query (the running
    study's protocol constants, read once per run and not per participant, aside)."""
    check = get_check(code)
    run_scope = scope(*participants, now=now)
    sql, params = check.rule(run_scope).values(*TARGET_COLUMNS).query.sql_with_params()
    assert sql.lstrip().upper().startswith("SELECT"), sql
    with CaptureQueriesContext(connection) as queries:
        found = evaluate(check, run_scope)
    data_queries = [q["sql"] for q in queries.captured_queries if '"study_study"' not in q["sql"]]
    assert len(data_queries) == 1, data_queries
    return found


def forms(found: list[Target]) -> set[int | None]:
    return {t.form_id for t in found}
