"""Keeps the AE's soft check against the Death form current when the Death form changes
(safety/specs.py "AE and death"). Connected in ``SafetyConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save


def connect() -> None:
    try:
        from ecrf.outcomes.models import Death
    except ImportError:  # the outcomes app is optional for the safety app
        return
    post_save.connect(death_saved, sender=Death, dispatch_uid="safety.death_check")


def death_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    from safety.services import ae_death_recheck

    ae_death_recheck(participant=instance.participant, actor=getattr(instance, "_history_user", None))
