"""The casebook grid page: study days x forms with each form's display state."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.core.errors import DomainError, forbidden
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
                items.append({"f": f, "new_url": link})
            cells.append((column, items))
        table.append({"row": row, "can_write": can_write, "cells": cells})
    return render(request, "schedule/casebook.html", {"participant": grid.participant, "grid": grid, "table": table,
                                                      "writer": writer})
