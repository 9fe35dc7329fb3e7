"""Schedule API: ``GET /api/v1/participants/<id>/schedule/`` (fixed query count)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.core.errors import forbidden
from ecrf.schedule.selectors import casebook_grid

FORM_FIELDS = {
    "form": serializers.CharField(), "row": serializers.CharField(), "label": serializers.CharField(),
    "day": serializers.IntegerField(allow_null=True), "match": serializers.DictField(),
    "opens_at": serializers.DateTimeField(), "closes_at": serializers.DateTimeField(),
    "expected": serializers.BooleanField(), "why_not": serializers.CharField(), "state": serializers.CharField(),
    "entry_id": serializers.IntegerField(allow_null=True), "entry_version": serializers.IntegerField(allow_null=True),
}


class ScheduleViewSet(viewsets.ViewSet):
    """The participant's expected forms with windows and display states (blinded)."""

    @extend_schema(responses=inline_serializer("Schedule", {
        "participant": serializers.IntegerField(), "subject_id": serializers.CharField(),
        "randomized_at": serializers.DateTimeField(), "first_dose_at": serializers.DateTimeField(allow_null=True),
        "forms": inline_serializer("ExpectedForm", FORM_FIELDS, many=True)}))
    def list(self, request: Request, participant_pk: str | None = None) -> Response:
        if not user_roles(request.user) & CASEBOOK_READ_ROLES:
            raise forbidden("Your role does not read casebooks.")
        grid = casebook_grid(request.user, participant_pk)
        shown = {id(f) for row in grid.rows for cell in row.cells.values() for f in cell}
        forms: list[dict[str, Any]] = []
        for f in grid.schedule.forms:
            if id(f) not in shown:
                continue
            forms.append({
                "form": f.slot.key, "row": f.slot.row, "label": f.slot.label, "day": f.slot.day,
                "match": dict(f.slot.match), "opens_at": f.slot.opens_at, "closes_at": f.slot.closes_at,
                "expected": f.expected, "why_not": f.why_not, "state": f.state,
                "entry_id": f.entry.pk if f.entry is not None else None,
                "entry_version": f.entry.version if f.entry is not None else None,
            })
        p = grid.participant
        data = {"participant": p.pk, "subject_id": p.subject_id, "randomized_at": p.randomized_at,
                "first_dose_at": grid.schedule.context.first_dose_at, "forms": forms}
        return Response(serializers.JSONField().to_representation(_iso(data)))


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, dt.datetime):
        return serializers.DateTimeField().to_representation(value)
    return value


def register(router) -> None:  # noqa: ANN001
    router.register(r"participants/(?P<participant_pk>[0-9]+)/schedule", ScheduleViewSet, basename="participant-schedule")
