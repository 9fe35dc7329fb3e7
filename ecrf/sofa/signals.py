"""A decoupled hook (STYLE.md: signals only for decoupled hooks such as cache invalidation):
the stored endpoints are a derived cache of inputs owned by other apps. When a row of the
outcomes app (a death) or the dosing app (a dose) is saved, the participant's endpoints are
re-derived after the commit; the derivation reads those apps only through their selectors."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

INPUT_APPS = frozenset({"outcomes", "dosing"})


@receiver(post_save, dispatch_uid="sofa-endpoint-inputs")
def _endpoint_input_saved(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    meta = sender._meta
    if raw or meta.app_label not in INPUT_APPS or meta.model_name.startswith("historical"):
        return
    participant_id = getattr(instance, "participant_id", None)
    if participant_id is None:
        return
    from ecrf.sofa.services import endpoints_schedule

    endpoints_schedule(participant_id=participant_id)
