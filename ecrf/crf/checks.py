"""Edit checks: declared by the app that owns the data, run by the queries app.

Each clinical app declares its checks in its own ``checks.py`` with ``register_check(EditCheck(...))``;
``all_checks()`` imports every installed app's ``checks`` module (``autodiscover_modules``, as the
admin finds ``admin.py``), so this registry, and the queries app that runs the checks, name no
particular form. It lives in the CRF core, below the clinical apps, for the same reason as the form
registry: the apps that declare checks may not import the data-management floor above them.

A check's rule is one set-based query over the database, never a loop over participants:
``rule(scope)`` returns a queryset (or ``values()`` queryset) whose rows are the problems found among
``scope.participants``, each with the columns

    participant_id  the participant the problem belongs to
    form_id         the primary key of the offending row of ``EditCheck.form`` (None when the
                    problem is a missing form)
    item            text that tells apart several problems of one form or participant (a study
                    day for a missing SOFA day, a field name), "" when there is nothing to tell apart

The queries app turns each row into at most one query, keyed by (check code, check version,
``target_key``), with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` around the rule's SQL.
Use ``scope.now`` rather than the database clock, so a run is reproducible and testable.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.module_loading import autodiscover_modules

TARGET_COLUMNS = ("participant_id", "form_id", "item")
_CODE = re.compile(r"^[A-Z]{2,8}-[0-9]{3}$")


class Severity(enum.StrEnum):
    HARD = "hard"  # impossible data: must be corrected
    SOFT = "soft"  # implausible data: corrected, or confirmed as correct by the site


@dataclass(frozen=True)
class CheckScope:
    """What a run looks at: the participants (a queryset, so the rule stays one query) and the
    instant the run treats as now."""

    participants: QuerySet[Any]
    now: dt.datetime


Rule = Callable[[CheckScope], QuerySet[Any]]


@dataclass(frozen=True)
class EditCheck:
    code: str  # stable, "<AREA>-<nnn>" (e.g. "SOFA-003"); never reused for another meaning
    version: int  # raised when the rule's meaning changes: queries of an older version stay as they were
    message: str  # what the site reads on the query, in words a coordinator acts on
    severity: Severity
    form: str  # the form key (FormSpec.key) the query attaches to
    fields: tuple[str, ...]  # the field(s) of that form the problem concerns
    rationale: str  # why the data team wants it: shown in the check catalogue
    rule: Rule

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"Edit check code {self.code!r} must look like 'SOFA-003'.")
        if self.version < 1:
            raise ValueError(f"Edit check {self.code} needs a version of at least 1.")
        if not self.fields:
            raise ValueError(f"Edit check {self.code} must name the field(s) it concerns.")

    @property
    def app(self) -> str:
        """The declaring app's module (``ecrf.sofa``, ``safety``), for the catalogue."""
        return self.rule.__module__.removesuffix(".checks")


_CHECKS: dict[str, EditCheck] = {}


def register_check(check: EditCheck) -> EditCheck:
    """Declare ``check``. Registering the same declaration again is a no-op (module reloads);
    two different checks may not share a code."""
    existing = _CHECKS.get(check.code)
    if existing is not None and existing != check and existing.rule.__qualname__ != check.rule.__qualname__:
        raise ValueError(f"Edit check code {check.code} is declared twice ({existing.app} and {check.app}).")
    _CHECKS[check.code] = check
    return check


def all_checks() -> list[EditCheck]:
    """Every declared check, by code, after importing each installed app's ``checks`` module."""
    autodiscover_modules("checks")
    return sorted(_CHECKS.values(), key=lambda c: c.code)


def get_check(code: str) -> EditCheck:
    all_checks()
    return _CHECKS[code]


def target_key(check: EditCheck, *, participant_id: int, form_id: int | None, item: str) -> str:
    """The item a query is about, stable across runs: one query per (check, version, target)."""
    return f"{check.form}:{participant_id}:{form_id if form_id is not None else '-'}:{item}"


@dataclass(frozen=True)
class Target:
    participant_id: int
    form_id: int | None
    item: str


def evaluate(check: EditCheck, scope: CheckScope) -> list[Target]:
    """Run ``check``'s rule and return the problems it finds (reads only; the queries app writes).
    For the check's own tests and the after-save run's diagnostics."""
    rows = check.rule(scope).values(*TARGET_COLUMNS)
    found = {Target(participant_id=r["participant_id"], form_id=r["form_id"], item=r["item"] or "") for r in rows}
    return sorted(found, key=lambda t: (t.participant_id, t.form_id or 0, t.item))
