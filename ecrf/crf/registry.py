"""One declaration per form: the generic machinery turns a ``FormSpec`` into its service calls,
API endpoint, pages, admin and history (so each CRF is declared once, never copied)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role

if TYPE_CHECKING:
    from ecrf.crf.models import CRF

Validator = Callable[["CRF"], dict[str, str]]
# ``(ctx: ScheduleContext, visit: VisitDef, spec: FormSpec) -> list[Slot]`` (ecrf.schedule.engine;
# typed loosely here because the registry sits below the schedule app).
SlotExpander = Callable[[Any, Any, "FormSpec"], list[Any]]


@dataclass(frozen=True)
class FormSpec:
    key: str  # "<app_label>.<name>", stable; used by the schedule and tasks
    model: type[CRF]
    fields: tuple[str, ...]  # what users enter
    slug: str  # kebab-case: /api/v1/<slug>/ and page URLs
    label: str
    write_roles: frozenset[str] = SITE_ENTRY_ROLES
    read_roles: frozenset[str] = CASEBOOK_READ_ROLES
    # Data managers apply site-confirmed corrections (with a reason) through the admin.
    correction_roles: frozenset[str] = frozenset({Role.DATA_MANAGER})
    derived_fields: tuple[str, ...] = ()  # computed on the server (invariant 8), read-only
    # Fields that identify one entry within a participant: () means one per participant,
    # None means any number (e.g. repeated adverse events).
    one_per: tuple[str, ...] | None = None
    requires_randomized: bool = False
    validate: Validator | None = None  # cross-field and domain rules -> {field: message}
    derive: Callable[[CRF], None] | None = None  # sets derived fields from raw values
    # Optional: reshape the API's JSON of one form (e.g. group derived fields into an object).
    representation: Callable[["CRF", dict[str, Any]], dict[str, Any]] | None = None  # noqa: UP037
    # The form's place in the schedule (ecrf.schedule.engine): the integer study-day field that
    # matches an entry to its visit, or, for a form with several slots per visit (the dosing app's
    # IV and SC doses of a day), the function that expands a visit into its slots.
    schedule_day_field: str = "day"
    schedule_slots: SlotExpander | None = None
    # Optional: a template included on the form's page above its fields (e.g. the SOFA score).
    detail_template: str | None = None
    # Optional: the URL name (argument: the participant's pk) of a page that renders, from the
    # entry form's posted values, what the server would derive, without saving (SOFA's score as
    # it is typed). The form page calls it through htmx; without JavaScript the form works as is.
    preview_url: str | None = None
    # Optional: the page a save leads to for this entry, or None for the form's own page (a
    # serious adverse event leads to its SAE report and reporting clock).
    next_page: Callable[["CRF"], str | None] | None = None  # noqa: UP037
    # Optional: the entry fields grouped under headings on the form page, in order: ((heading,
    # (field, ...)), ...). Fields named in no section come first, without a heading.
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def api_basename(self) -> str:
        return self.slug


_REGISTRY: dict[str, FormSpec] = {}


def register(spec: FormSpec) -> FormSpec:
    existing = _REGISTRY.get(spec.key)
    if existing is not None and existing.model is not spec.model:
        raise RuntimeError(f"Form key {spec.key} is registered twice.")
    if any(s.slug == spec.slug and s.key != spec.key for s in _REGISTRY.values()):
        raise RuntimeError(f"Form slug {spec.slug} is used twice.")
    grouped = [name for _heading, names in spec.sections for name in names]
    if len(grouped) != len(set(grouped)) or not set(grouped) <= set(spec.fields):
        raise RuntimeError(f"Form {spec.key}: each section names entry fields of the form, each field once.")
    _REGISTRY[spec.key] = spec
    return spec


def all_specs() -> list[FormSpec]:
    return sorted(_REGISTRY.values(), key=lambda s: s.key)


def get_spec(key: str) -> FormSpec:
    return _REGISTRY[key]


def spec_for_slug(slug: str) -> FormSpec | None:
    return next((s for s in _REGISTRY.values() if s.slug == slug), None)


def spec_for_model(model: type) -> FormSpec | None:
    return next((s for s in _REGISTRY.values() if s.model is model), None)
