"""The one write guard (ARCHITECTURE.md "Freeze and lock"): every service calls it before a write."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.models import LockScope, Participant


def active_scope_for(*, participant: Participant | None = None, site_id: int | None = None,
                     form: models.Model | None = None) -> LockScope | None:
    if participant is not None:
        site_id = participant.site_id
    condition = Q(level="study")
    if site_id is not None:
        condition |= Q(level="site", site_id=site_id)
    if participant is not None and participant.pk:
        condition |= Q(level="participant", participant_id=participant.pk)
    if form is not None and form.pk:
        condition |= Q(level="form", form_type=ContentType.objects.get_for_model(form), form_id=form.pk)
    return LockScope.objects.filter(condition, released_at__isnull=True).order_by("pk").first()


def assert_writable(*, participant: Participant | None = None, site_id: int | None = None,
                    form: models.Model | None = None) -> None:
    """Refuse the write if any freeze or lock covers it (form, participant, site or study)."""
    scope = active_scope_for(participant=participant, site_id=site_id, form=form)
    if scope is not None:
        what = {"study": "The study", "site": "This site's data", "participant": "This participant's data",
                "form": "This form"}[scope.level]
        state = "locked" if scope.kind == "lock" else "frozen"
        raise DomainError(ErrorCode.LOCKED, f"{what} is {state}; no change is possible until a data manager unlocks it with a reason.")


def locked_participant_ids(*, participant_ids: Iterable[int]) -> set[int]:
    """The bulk form of ``assert_writable`` for jobs that must skip, not fail, on locked data
    (the nightly endpoint re-derivation): which of these participants a participant, site or
    study freeze or lock covers, in at most four queries whatever their number."""
    ids = list(participant_ids)
    if not ids:
        return set()
    active = LockScope.objects.filter(released_at__isnull=True)
    if active.filter(level="study").exists():
        return set(ids)
    covered = set(active.filter(level="participant", participant_id__in=ids).values_list("participant_id", flat=True))
    sites = set(active.filter(level="site").values_list("site_id", flat=True))
    if sites:
        covered |= set(Participant.objects.filter(pk__in=ids, site_id__in=sites).values_list("pk", flat=True))
    return covered
