"""The casebook grid page: study days x forms with each form's display state."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.core.errors import DomainError, forbidden
from ecrf.core.templatetags.ui import state_style
from ecrf.schedule.engine import STATE_LABELS, State
from ecrf.schedule.selectors import casebook_grid
from ecrf.crf.selectors import participant_get


@login_required
def casebook(request: HttpRequest, pk: int) -> HttpResponse:
    if not user_roles(request.user) & CASEBOOK_READ_ROLES:
        raise forbidden(_("Your role does not read casebooks."))
    try:
        grid = casebook_grid(request.user, pk)
    except DomainError as exc:
        if exc.status != 409:
            raise

        participant = participant_get(request.user, pk, CASEBOOK_READ_ROLES)
        return render(request, "schedule/casebook.html", {"participant": participant, "grid": None, "message": exc.message})
    writer = bool(user_roles(request.user) & grid.rows[0].spec.write_roles) if grid.rows else False
    table = []
    for row in grid.rows:
        can_write = bool(user_roles(request.user) & row.spec.write_roles)
        new_url = reverse("crf:form-new", args=[grid.participant.pk, row.spec.slug])
        cells = []
        for column in grid.columns:
            items = []
            for f in row.cells.get(column, []):
                # A missing expected form links to a new form with the slot pre-filled (its day;
                # for an administration, its route and dose number).
                link = None
                if f.entry is None and f.expected and can_write:
                    query = urlencode(f.slot.match)
                    link = f"{new_url}?{query}" if query else new_url
                items.append({"f": f, "new_url": link, "number": dict(f.slot.match).get("dose_number")})
            cells.append({"column": column, "items": items, "doses": _dose_summary(items)})
        table.append({"row": row, "can_write": can_write, "cells": cells})
    legend = [(code, label, *state_style(code)) for code, label in grid.legend.items()]
    return render(request, "schedule/casebook.html", {"participant": grid.participant, "grid": grid, "table": table,
                                                      "writer": writer, "legend": legend})


# The state a day's doses are summarised by: the first of these that any of them has, so that
# what needs doing (overdue, queried, draft, due) shows before what is done. Presentation only:
# each dose keeps its own state one click away.
_SUMMARY_ORDER = [State.OVERDUE, State.QUERIED, State.DRAFT, State.DUE, State.UPCOMING, State.NOT_DONE, State.ENTERED,
                  State.VERIFIED, State.SIGNED, State.FROZEN, State.LOCKED, State.NOT_EXPECTED]


def _dose_summary(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A treatment day's doses of one route in one cell: "entered / expected" and one state."""
    forms = [item["f"] for item in items]
    if not forms or not all(f.slot.treatment_route for f in forms):
        return None
    counted = [f for f in forms if f.expected or f.entry is not None]
    states = {f.state for f in forms}
    state = next((s for s in _SUMMARY_ORDER if s in states), forms[0].state)
    overlays = sorted({o for f in forms for o in f.overlays if o != state})
    return {"entered": sum(1 for f in counted if f.entry is not None), "expected": len(counted),
            "route": (forms[0].slot.treatment_route or "").upper(), "state": state,
            "state_label": STATE_LABELS.get(state, state),
            "overlays": [(o, STATE_LABELS.get(o, o)) for o in overlays]}
