"""The pharmacist's pages (unblinded, own sites only): the worklist and a participant's preparations."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.core.errors import DomainError, not_found
from ecrf.core.fields import EntryDateTimeField
from ecrf.pharmacy import services
from ecrf.pharmacy.models import Preparation, Product, Route
from ecrf.pharmacy.selectors import doses_due_within, pharmacy_participant, worklist


@login_required
def worklist_page(request: HttpRequest) -> HttpResponse:
    return render(request, "pharmacy/worklist.html", {"items": worklist(request.user)})


class PreparationForm(forms.Form):
    route = forms.ChoiceField(label=gettext_lazy("Route"), choices=Route.choices)
    product = forms.ChoiceField(label=gettext_lazy("Product"), choices=Product.choices)
    lot = forms.CharField(label=gettext_lazy("Lot number"), max_length=60)
    dose = forms.CharField(label=gettext_lazy("Dose"), max_length=100, required=False,
                           help_text=gettext_lazy("Leave empty for the protocol's dose."))
    prepared_at = EntryDateTimeField(label=gettext_lazy("Prepared at"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                      help_text=gettext_lazy("Empty: now."))


class DayForm(forms.Form):
    """A day's doses in one step: how many of each route's next doses, and the lot of each product."""

    iv_count = forms.IntegerField(label=gettext_lazy("IV doses to prepare"), min_value=0, max_value=10)
    iv_lot = forms.CharField(label=gettext_lazy("IV lot number"), max_length=60, required=False)
    sc_count = forms.IntegerField(label=gettext_lazy("SC doses to prepare"), min_value=0, max_value=10)
    sc_lot = forms.CharField(label=gettext_lazy("SC lot number"), max_length=60, required=False)
    prepared_at = EntryDateTimeField(label=gettext_lazy("Prepared at"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                      help_text=gettext_lazy("Empty: now."))


def _place(exc: DomainError, form: forms.Form) -> None:
    placed = False
    for name, msgs in exc.fields.items():
        if name in form.fields:
            for msg in (msgs if isinstance(msgs, list) else [msgs]):
                form.add_error(name, msg)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
def participant_page(request: HttpRequest, pk: int) -> HttpResponse:
    participant = pharmacy_participant(request.user, pk)
    items = worklist(request.user, [participant])
    if not items:
        # Randomized outside the allocation list (e.g. legacy or test data): nothing to prepare.
        raise not_found("assignment")
    item = items[0]
    day_posted = request.method == "POST" and "prepare_day" in request.POST
    due = doses_due_within(item)
    day_form = DayForm(request.POST if day_posted else None, prefix="day",
                       initial={"iv_count": due.get("iv", 0), "sc_count": due.get("sc", 0)})
    if day_posted and day_form.is_valid():
        data = day_form.cleaned_data
        try:
            made = services.preparation_record_day(
                actor=request.user, participant=participant, lots={"iv": data["iv_lot"], "sc": data["sc_lot"]},
                counts={"iv": data["iv_count"], "sc": data["sc_count"]}, prepared_at=data["prepared_at"])
        except DomainError as exc:
            _place(exc, day_form)
        else:
            messages.success(request, _("Recorded %(n)s preparations: %(labels)s.") % {
                "n": len(made), "labels": "; ".join(p.label for p in made)})
            return redirect("pharmacy:participant", pk=participant.pk)
    form = PreparationForm(None if day_posted else (request.POST or None),
                           initial={"route": "iv", "product": item.requirements[0].product})
    if request.method == "POST" and not day_posted and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") or k == "dose"}
        try:
            prep = services.preparation_record(actor=request.user, participant=participant, **data)
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                if name in form.fields:
                    for msg in msgs:
                        form.add_error(name, msg)
            if not any(n in form.fields for n in exc.fields):
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Recorded: label %(l)s.") % {"l": prep.label})
            return redirect("pharmacy:participant", pk=participant.pk)
    preparations = Preparation.objects.filter(participant=participant).select_related("prepared_by")
    return render(request, "pharmacy/participant.html", {"item": item, "participant": participant, "form": form,
                                                         "day_form": day_form, "due": due,
                                                         "preparations": preparations})
