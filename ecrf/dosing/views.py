"""A dosing day: the day's IV slots and the SC slot when due, each recorded in one form."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.core.errors import DomainError, forbidden
from ecrf.core.fields import EntryDateTimeField
from ecrf.crf.selectors import participant_get
from ecrf.crf.services import form_create
from ecrf.dosing.models import NotGivenReason
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.schedule.selectors import build_schedule


class DoseForm(forms.Form):
    """One IV infusion. Nothing is preselected: whether the dose was given, and when, is what
    the nurse records, so the page never suggests an answer (the due time is used only when the
    user ticks that the dose started on time)."""

    given = forms.TypedChoiceField(label=gettext_lazy("Given?"), choices=[("yes", gettext_lazy("Given")), ("no", gettext_lazy("Not given"))],
                                   widget=forms.RadioSelect, coerce=lambda v: v == "yes",
                                   error_messages={"required": gettext_lazy("Say whether the dose was given or not.")})
    at_due_time = forms.BooleanField(label=gettext_lazy("Started at the due time"), required=False)
    started_at = EntryDateTimeField(label=gettext_lazy("Actual start time"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                     help_text=gettext_lazy("Leave empty if you ticked 'Started at the due time'."))
    duration_minutes = forms.IntegerField(label=gettext_lazy("Duration (minutes)"), required=False, min_value=0)
    volume_ml = forms.DecimalField(label=gettext_lazy("Volume given (mL)"), required=False, max_digits=6, decimal_places=2)
    interrupted = forms.BooleanField(label=gettext_lazy("Interrupted"), required=False)
    interruption_minutes = forms.IntegerField(label=gettext_lazy("Interruption (minutes)"), required=False, min_value=0)
    interruption_notes = forms.CharField(label=gettext_lazy("Interruption details"), required=False, max_length=300)
    reason_not_given = forms.ChoiceField(label=gettext_lazy("Reason not given"), required=False,
                                         choices=[("", "—"), *NotGivenReason.choices])
    reason_other = forms.CharField(label=gettext_lazy("Other reason"), required=False, max_length=300)


class InjectionForm(DoseForm):
    """One SC injection: given at once, so no duration and no interruption."""

    duration_minutes = None
    interrupted = None
    interruption_minutes = None
    interruption_notes = None


@login_required
def dosing_day(request: HttpRequest, pk: int, day: int) -> HttpResponse:
    if not user_roles(request.user) & CASEBOOK_READ_ROLES:
        raise forbidden(_("Your role does not read administration logs."))
    participant = participant_get(request.user, pk, CASEBOOK_READ_ROLES)
    if not participant.is_randomized:
        raise Http404(_("Dosing starts at randomization."))
    can_write = bool(user_roles(request.user) & ADMINISTRATION.write_roles)
    zone = ZoneInfo(participant.site.time_zone)
    posted_slot = request.POST.get("slot") if request.method == "POST" else None
    if request.method == "POST" and not can_write:
        raise forbidden(_("Your role may not record administrations."))
    with timezone.override(zone):
        schedule = build_schedule(participant)
        slots = [f for f in schedule.forms if f.slot.treatment_route and f.slot.day == day]
        rows = []
        for f in slots:
            slot_id = f"{f.slot.treatment_route}-{dict(f.slot.match)['dose_number']}"
            form = None
            if can_write and f.entry is None:
                bound = request.POST if posted_slot == slot_id else None
                form_class = DoseForm if f.slot.treatment_route == "iv" else InjectionForm
                form = form_class(bound, prefix=slot_id)
                if bound is not None and form.is_valid() and form.cleaned_data["at_due_time"] and form.cleaned_data["started_at"]:
                    form.add_error("started_at", _("Either tick 'Started at the due time' or enter the start time, not both."))
                if bound is not None and form.is_valid():
                    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") and k != "at_due_time"}
                    data["given"] = form.cleaned_data["given"]
                    if data["given"] and form.cleaned_data["at_due_time"]:
                        data["started_at"] = f.slot.opens_at
                    if "interrupted" in form.fields:
                        data["interrupted"] = form.cleaned_data["interrupted"]
                    data.update(route=f.slot.treatment_route, dose_number=dict(f.slot.match)["dose_number"])
                    try:
                        form_create(actor=request.user, spec=ADMINISTRATION, participant=participant, data=data, submit=True)
                    except DomainError as exc:
                        placed = False
                        for name, msgs in exc.fields.items():
                            if name in form.fields:
                                for m in msgs:
                                    form.add_error(name, m)
                                placed = True
                        if not placed:
                            form.add_error(None, exc.message)
                    else:
                        messages.success(request, _("%(slot)s recorded.") % {"slot": f.slot.label})
                        return redirect("dosing:day", pk=participant.pk, day=day)
            rows.append({"f": f, "slot_id": slot_id, "form": form})
    days = sorted({f.slot.day for f in schedule.forms if f.slot.treatment_route and f.slot.day})
    return render(request, "dosing/day.html", {
        "participant": participant, "day": day, "rows": rows, "zone": zone,
        "previous": max((d for d in days if d < day), default=None), "next": min((d for d in days if d > day), default=None),
    })
