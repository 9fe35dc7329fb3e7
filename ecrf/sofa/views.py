"""The SOFA form's score preview: the entry form's values, scored by the server as a save would,
rendered as a fragment the form page swaps in as the coordinator types (htmx). It writes nothing."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ecrf.accounts.roles import user_roles
from ecrf.core.errors import forbidden
from ecrf.crf.selectors import participant_get
from ecrf.crf.views import entry_form
from ecrf.sofa import derivation
from ecrf.sofa.specs import SOFA_DAY

COMPONENT_LABELS = {"respiration": gettext_lazy("Respiration"), "coagulation": gettext_lazy("Coagulation"),
                    "liver": gettext_lazy("Liver"), "cardiovascular": gettext_lazy("Cardiovascular"),
                    "cns": gettext_lazy("CNS"), "renal": gettext_lazy("Renal")}


@login_required
@require_POST  # it reads the form's body (with its CSRF token); it saves nothing
def score_preview(request: HttpRequest, pk: int) -> HttpResponse:
    # The same authority as entering the form: the participant in the user's scope (404 otherwise,
    # as on the form pages), and a role that enters SOFA (403 for the form's other readers).
    participant = participant_get(request.user, pk, SOFA_DAY.read_roles | SOFA_DAY.write_roles)
    if not user_roles(request.user) & SOFA_DAY.write_roles:
        raise forbidden(_("Your role may not enter %(form)s forms.") % {"form": SOFA_DAY.label})
    entry = entry_form(SOFA_DAY, request.POST)
    entry.is_valid()  # parsed as the save parses; what it cannot read is named, not scored
    preview = derivation.score_preview(participant=participant, values=entry.cleaned_data,
                                       problems=derivation.problem_fields(entry.errors.items()))
    fields = {f.name: f for f in SOFA_DAY.model._meta.get_fields()}
    return render(request, "sofa/score_preview.html", {
        "preview": preview,
        "cells": [(c, COMPONENT_LABELS[c], preview.subscores[c], c in preview.unscored) for c in COMPONENT_LABELS],
        "problems": [(fields[name].verbose_name if name in fields else name, msg) for name, msg in preview.problems.items()],
        "missing": [COMPONENT_LABELS[c] for c in preview.missing],
        "unscored": [COMPONENT_LABELS[c] for c in preview.unscored],
        "imputed": [(COMPONENT_LABELS[c], how) for c, how in preview.imputed.items()],
    })
