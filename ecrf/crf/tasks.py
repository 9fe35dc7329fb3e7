"""Background writes to CRFs (imports, integrations) go through the same services as the UI."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from ecrf.core.errors import DomainError
from ecrf.accounts.models import User
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_update

logger = logging.getLogger(__name__)


@shared_task(name="ecrf.crf.tasks.apply_form_change")
def apply_form_change(*, form_key: str, form_id: int, actor_id: int, data: dict[str, Any], version: int,
                      reason: str = "") -> dict[str, Any]:
    """Apply a change to one form as ``actor``; idempotent through the version check (a replay
    of an applied change is stale and refused). Refusals are returned, not retried."""
    spec = get_spec(form_key)
    actor = User.objects.get(pk=actor_id)
    form = spec.model.objects.select_related("participant").get(pk=form_id)
    try:
        form = form_update(actor=actor, spec=spec, form=form, data=data, version=version, reason=reason)
    except DomainError as exc:
        logger.warning("form change refused: %s %s: %s", form_key, form_id, exc.code.value)
        return {"ok": False, "code": exc.code.value, "message": exc.message}
    return {"ok": True, "version": form.version}
