"""Every URL pattern of the URL conf, with its arguments filled from the world's objects.

Arguments are filled by what the pattern names: a form slug and the forms of that kind, a
participant, one of the participant's objects (by the API resource's model and lookup field, or
the admin's model), a study day, a status action. A pattern whose arguments this module cannot
fill, or for which the world holds no object, fails the walk with its name, so a URL added later
is never skipped silently. A page that does more by its query parameters (the signing page of
one form) is also requested with each of them (``QUERIES``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

from ecrf.crf.models import LockScope, Participant
from ecrf.crf.registry import all_specs, spec_for_model
from ecrf.crf.views import _STATUS_ACTIONS
from ecrf.dosing.models import Administration
from ecrf.exports.models import ExportJob
from ecrf.notifications.models import Notification
from ecrf.pharmacy.models import Preparation
from ecrf.queries.models import CheckRun, Query
from ecrf.randomization.models import AllocationList, Assignment
from ecrf.review.models import Signature
from ecrf.schedule.days import day_of_moment
from ecrf.screening.models import Consent, LabImport
from ecrf.study.models import Site
from tests.permissions.matrix import accepted_methods
from safety.models import Adjudication, AdjudicationReview, AdverseEvent, Clock, ExpeditedAssessment, SAEReport

# Unnamed patterns: the admin's shims that redirect to named pages (walked by name).
UNNAMED_OK = (re.compile(r"^admin/.*<path:object_id>/$"), re.compile(r"^admin/\(\?P<url>\.\*\)\$$"))


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str
    callback: Any
    converters: dict[str, str]  # argument -> converter or regex


def patterns() -> list[Pattern]:
    out: list[Pattern] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> Iterator[None]:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace
                yield from walk(p, prefix + str(p.pattern), f"{namespace}:{ns}" if namespace and ns else ns or namespace)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name or ""
                args = {arg: converter or "str" for converter, arg in re.findall(r"<(?:(\w+):)?(\w+)>", route)}
                args.update({k: "regex" for k in re.findall(r"\(\?P<(\w+)>", route)})
                out.append(Pattern(name, route, p.callback, args))
        yield None

    list(walk(get_resolver(), "", None))
    return out


def objects(model: Any, attribute: str = "pk") -> list[Any]:
    """The objects of ``model`` to request: every one of a small table; of a participant's
    objects, the first of each participant with an arm (so every randomized participant, both
    phenotypes and both sites, is covered at a bounded cost); of a large table, the four newest.

    A participant without an arm has the same objects in both worlds by construction; what a
    page of its could show of others' arms, its participant pages show (they are walked for
    every participant), and the same objects of the randomized participants are walked."""
    fields = {f.name for f in model._meta.get_fields()}
    rows = list(model.objects.order_by("pk").values_list(attribute, *(["participant_id"] if "participant" in fields else [])))
    if "participant" in fields:
        with_arm = set(_participants(with_arm=True))
        first: dict[Any, Any] = {}
        for value, participant in rows:
            if participant in with_arm:
                first.setdefault(participant, value)
        return sorted(first.values(), key=[v for v, _ in rows].index)
    values = [r[0] for r in rows]
    return values if len(values) <= 12 else values[-4:]


def _pks(model: Any) -> list[dict[str, Any]]:
    return [{"pk": v} for v in objects(model)]


def _participants(*, with_arm: bool = False) -> list[Any]:
    """Every participant, or those with an arm (randomized: an assignment to a slot)."""
    found = Participant.objects.order_by("pk")
    if with_arm:
        found = found.filter(pk__in=Assignment.objects.values("participant_id"))
    return list(found.values_list("pk", flat=True))


def _first_of_each_phenotype() -> list[Any]:
    """The first randomized participant of each phenotype (the stratum that decides what an arm
    means: anakinra or interferon-gamma against placebo)."""
    first: dict[str, Any] = {}
    for participant, phenotype in Assignment.objects.order_by("participant_id").values_list("participant_id", "phenotype"):
        first.setdefault(phenotype, participant)
    return sorted(first.values())


def _study_days() -> list[int]:
    days = {day_of_moment(a.participant, a.started_at) for a in Administration.objects.select_related("participant__site")
            .exclude(started_at=None)}
    return sorted(days | {max(days) + 1, 15})


def _api_models() -> dict[str, Any]:
    models = {spec.api_basename: spec.model for spec in all_specs()}
    models.update({"participant": Participant, "participant-randomization": Participant, "site": Site,
                   "notification": Notification, "consent-lifecycle": Consent, "lab-import": LabImport,
                   "allocation-list": AllocationList, "preparation": Preparation, "sae-reports": SAEReport,
                   "clocks": Clock, "adjudications": Adjudication, "locks": LockScope,
                   "query": Query, "check-run": CheckRun, "exports": ExportJob})
    return models


def _api(p: Pattern) -> list[dict[str, Any]] | None:
    view = getattr(p.callback, "cls", None)
    basename = (getattr(p.callback, "initkwargs", None) or {}).get("basename")
    args = set(p.converters)
    if view is None or basename is None:
        return None
    if basename == "participant-schedule" and args == {"participant_pk"}:
        return [{"participant_pk": pk} for pk in _participants()]
    if basename == "sofa-endpoint" and args == {"participant"}:
        return [{"participant": pk} for pk in _participants()]
    if basename == "adjudications" and args == {"pk", "review_id"}:
        return [{"pk": r.adjudication_id, "review_id": r.pk} for r in AdjudicationReview.objects.order_by("pk")]
    if basename == "notification" and args == {"pk"}:  # addressed by the opaque public id
        return [{"pk": v} for v in objects(Notification, "public_id")]
    model = _api_models().get(basename)
    kwarg = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    if model is None or args != {kwarg}:
        return None
    return [{kwarg: v} for v in objects(model, getattr(view, "lookup_field", "pk"))]


def _forms(*, one_per_phenotype: bool = False) -> list[dict[str, Any]]:
    """The forms of each kind: the first of each randomized participant, or with
    ``one_per_phenotype`` only those of the first randomized participant of each phenotype."""
    if not one_per_phenotype:
        return [{"slug": spec.slug, "form_id": pk} for spec in all_specs() for pk in objects(spec.model)]
    chosen = set(_first_of_each_phenotype())
    out = []
    for spec in all_specs():
        first: dict[Any, Any] = {}
        for pk, participant in spec.model.objects.filter(participant_id__in=chosen).order_by("pk").values_list(
                "pk", "participant_id"):
            first.setdefault(participant, pk)
        out += [{"slug": spec.slug, "form_id": pk} for pk in sorted(first.values())]
    return out


# The pages that show a participant's data (the participant, its history, casebook, each form and
# its history) are walked for every randomized participant. The pages of an action on one form or
# participant (a new form of a kind, a status change) are one view and template for every form of
# a kind, with the participant's header: they are walked for the first randomized participant of
# each phenotype, whose arm differs between the worlds like every other's (that header is walked
# for every participant on the participant pages).
HTML: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "notifications:mark-read": lambda: [{"pk": v} for v in objects(Notification, "public_id")],
    "crf:participant-detail": lambda: [{"pk": pk} for pk in _participants()],
    "crf:participant-history": lambda: [{"pk": pk} for pk in _participants()],
    "crf:form-new": lambda: [{"pk": pk, "slug": s.slug} for pk in _first_of_each_phenotype() for s in all_specs()],
    "crf:form-detail": _forms,
    "crf:form-history": _forms,
    "crf:form-status": lambda: [{**f, "action": a} for f in _forms(one_per_phenotype=True) for a in _STATUS_ACTIONS],
    "screening:detail": lambda: [{"pk": pk} for pk in _participants()],
    "screening:consent-decision": lambda: _pks(Consent),
    "screening:consent-withdraw": lambda: _pks(Consent),
    "randomization:randomize": lambda: [{"pk": pk} for pk in _participants()],
    "randomization:unblind": lambda: [{"pk": pk} for pk in _participants()],
    "randomization:list-detail": lambda: _pks(AllocationList),
    "pharmacy:participant": lambda: [{"pk": pk} for pk in _participants()],
    "schedule:casebook": lambda: [{"pk": pk} for pk in _participants()],
    "review:participant-sdv": lambda: [{"pk": pk} for pk in _participants()],
    "review:sign": lambda: [{"pk": pk} for pk in _participants()],
    "dosing:day": lambda: [{"pk": pk, "day": d} for pk in _participants(with_arm=True) for d in _study_days()],
    "safety:ae-detail": lambda: _pks(AdverseEvent),
    "safety:assess": lambda: _pks(AdverseEvent),
    "safety:followup-request": lambda: _pks(AdverseEvent),
    "safety:report-submit": lambda: _pks(SAEReport),
    "safety:case-detail": lambda: _pks(ExpeditedAssessment),
    "safety:adjudication-form": lambda: _pks(Adjudication),
    "queries:detail": lambda: _pks(Query),
    "exports:detail": lambda: _pks(ExportJob),
    "exports:download": lambda: _pks(ExportJob),
    "exports:analysis": lambda: _pks(ExportJob),
    "queries:run-detail": lambda: _pks(CheckRun),
    # Raising a query names only the form and its participant: one form of each kind.
    "queries:raise": lambda: [next(f for f in _forms() if f["slug"] == s.slug) for s in all_specs()
                              if any(f["slug"] == s.slug for f in _forms())],
    "safety:review-detail": lambda: [{"pk": r.adjudication_id, "review_id": r.pk} for r in AdjudicationReview.objects.order_by("pk")],
}


def _form_signing_pages() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The signing page of one form (``?form_slug=&form_id=``): every form of the first randomized
    participant of each phenotype, and every form signed on its own."""
    chosen = set(_first_of_each_phenotype())
    found: set[tuple[int, str, int]] = set()
    for spec in all_specs():
        for pk, participant in spec.model.objects.filter(participant_id__in=chosen).values_list("pk", "participant_id"):
            found.add((participant, spec.slug, pk))
    for sig in Signature.objects.filter(level="form").select_related("form_type"):
        found.add((sig.participant_id, spec_for_model(sig.form_type.model_class()).slug, sig.form_id))
    return [({"pk": participant}, {"form_slug": slug, "form_id": pk}) for participant, slug, pk in sorted(found)]


# Pages that do more by their query parameters: (URL arguments, query) for each request.
QUERIES: dict[str, Callable[[], list[tuple[dict[str, Any], dict[str, Any]]]]] = {
    "review:sign": _form_signing_pages,
}


def _admin(p: Pattern) -> list[dict[str, Any]] | None:
    if p.name == "admin:app_list":
        labels = re.search(r"\(\?P<app_label>([\w|]+)\)", p.route)
        return [{"app_label": label} for label in labels.group(1).split("|")] if labels else None
    if p.name == "admin:view_on_site":
        from django.contrib import admin

        return [{"content_type_id": ContentType.objects.get_for_model(model).pk, "object_id": pk}
                for model in admin.site._registry for pk in objects(model)]
    from django.contrib import admin

    # admin:<app label>_<model name>_<page>, one argument: object_id (id for the user's password page).
    models = [m for m in admin.site._registry if p.name.startswith(f"admin:{m._meta.app_label}_{m._meta.model_name}_")]
    if p.name == "admin:auth_user_password_change":  # Django names it after auth whatever the user model
        from django.contrib.auth import get_user_model

        models = [get_user_model()]
    if len(models) == 1 and len(p.converters) == 1:
        (arg,) = p.converters
        return [{arg: pk} for pk in objects(models[0])]
    return None


def _report_sites() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The screening report under its site filter (its pictures follow it): each site of the world."""
    return [({}, {"site": code}) for code in Site.objects.order_by("code").values_list("code", flat=True)]


QUERIES["screening:report"] = _report_sites


def arguments(p: Pattern) -> list[dict[str, Any]] | None:
    """Every argument set to request ``p`` with, or None when this module cannot fill it."""
    if not p.converters:
        return [{}]
    if p.route.startswith("api/"):
        return _api(p)
    if p.name.startswith("admin:"):
        return _admin(p)
    build = HTML.get(p.name)
    if build is None:
        return None
    filled = build()
    return filled if all(set(f) == set(p.converters) for f in filled) else None


def urls() -> list[tuple[str, str]]:
    """(pattern name, URL) for every pattern and every argument set; fails listing what it cannot fill."""
    from django.urls import reverse

    out: list[tuple[str, str]] = []
    unfilled: list[str] = []
    for p in patterns():
        if not p.name:
            if not any(rx.match(p.route) for rx in UNNAMED_OK):
                unfilled.append(f"(unnamed) {p.route}")
            continue
        if p.name.rsplit(":", 1)[-1] == "logout":
            continue  # would end the walking user's session (and changes nothing a role could compare)
        if "get" not in accepted_methods(p):
            # A view without a GET handler answers a GET 405 before it reads any object (the
            # status actions, randomize, unblind...): their writes are the build's scripted
            # requests, compared response by response.
            continue
        filled = arguments(p)
        if not filled:
            unfilled.append(f"{p.name} {p.route} {'(no object in the world)' if filled == [] else ''}")
            continue
        for kwargs in filled:
            out.append((p.name, reverse(p.name, kwargs=kwargs or None)))
        for kwargs, query in QUERIES.get(p.name, list)():
            out.append((p.name, f"{reverse(p.name, kwargs=kwargs)}?{urlencode(query)}"))
    assert not unfilled, "URL patterns the blinding walk cannot fill (extend tests/blinding/walk.py):\n" + "\n".join(unfilled)
    return out
