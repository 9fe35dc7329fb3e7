"""The casebook grid page: study days x forms with each form's display state."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.core.errors import DomainError, forbidden
from ecrf.schedule.selectors import casebook_grid


@login_required
def casebook(request: HttpRequest, pk: int) -> HttpResponse:
    if not user_roles(request.user) & CASEBOOK_READ_ROLES:
        raise forbidden(_("Your role does not read casebooks."))
    try:
        grid = casebook_grid(request.user, pk)
    except DomainError as exc:
        if exc.status != 409:
            raise
        from ecrf.crf.selectors import participant_get

        participant = participant_get(request.user, pk, CASEBOOK_READ_ROLES)
        return render(request, "schedule/casebook.html", {"participant": participant, "grid": None, "message": exc.message})
    writer = bool(user_roles(request.user) & grid.rows[0].spec.write_roles) if grid.rows else False
    table = []
    for row in grid.rows:
        can_write = bool(user_roles(request.user) & row.spec.write_roles)
        table.append({"row": row, "can_write": can_write,
                      "cells": [(column, row.cells.get(column, [])) for column in grid.columns]})
    return render(request, "schedule/casebook.html", {"participant": grid.participant, "grid": grid, "table": table,
                                                      "writer": writer})
