"""Pages: randomize (with a confirmation step), emergency unblinding, and the statistician's
allocation lists and study unblinding (unblinded pages, statistician only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, require_role, user_roles
from ecrf.core.errors import DomainError, forbidden, not_found
from ecrf.crf.selectors import participant_get
from ecrf.randomization import services, unblinding
from ecrf.randomization.models import AllocationList, Slot
from ecrf.screening.eligibility import reason_label
from ecrf.screening.selectors import screening_outcome


def _statistician(user: Any) -> None:
    if Role.STATISTICIAN not in user_roles(user):
        raise forbidden(_("Allocation lists are readable by the unblinded statistician alone."))


@login_required
def randomize(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, SITE_ENTRY_ROLES, "randomize participants")
    participant = participant_get(request.user, pk, SITE_ENTRY_ROLES)
    error = None
    if request.method == "POST" and "confirm" in request.POST:
        try:
            receipt = services.participant_randomize(actor=request.user, participant=participant)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Randomized: subject ID %(s)s. The site's pharmacist prepares the IV and SC study drug.")
                             % {"s": receipt.subject_id})
            return redirect("crf:participant-detail", pk=participant.pk)
    outcome = screening_outcome(participant)
    return render(request, "randomization/randomize.html", {
        "participant": participant, "outcome": outcome, "error": error,
        "reasons": [reason_label(c) for c in (outcome.reasons if outcome else ())]},
        status=409 if error else 200)


class UnblindForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Medical emergency: why the arm must be known"),
                             widget=forms.Textarea(attrs={"rows": 3}), max_length=REASON_MAX_LENGTH)
    password = forms.CharField(label=gettext_lazy("Your password (re-authentication)"), widget=forms.PasswordInput)


@login_required
def unblind(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, {Role.INVESTIGATOR}, "unblind a participant (investigators only, in a medical emergency)")
    participant = participant_get(request.user, pk, {Role.INVESTIGATOR})
    form = UnblindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            arm = unblinding.participant_emergency_unblind(actor=request.user, participant=participant,
                                                           reason=form.cleaned_data["reason"],
                                                           password=form.cleaned_data["password"], request=request)
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                if name in form.fields:
                    for msg in msgs:
                        form.add_error(name, msg)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            return render(request, "randomization/unblinded.html", {"participant": participant, "arm": arm})
    return render(request, "randomization/unblind.html", {"participant": participant, "form": form})


@login_required
def lists(request: HttpRequest) -> HttpResponse:
    _statistician(request.user)
    records = AllocationList.objects.select_related("created_by").prefetch_related("strata").order_by("pk")
    return render(request, "randomization/lists.html", {"lists": records, "study_unblinded": unblinding.study_unblinded(),
                                                        "study_locked": unblinding.study_lock_active()})


class GenerateForm(forms.Form):
    seed = forms.CharField(label=gettext_lazy("Seed (recorded)"), max_length=200)
    slots_per_stratum = forms.IntegerField(label=gettext_lazy("Slots per stratum"), min_value=1, max_value=100000)


@login_required
def generate(request: HttpRequest) -> HttpResponse:
    _statistician(request.user)
    form = GenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.allocation_list_generate(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Allocation list generated."))
            return redirect("randomization:list-detail", pk=record.pk)
    return render(request, "randomization/form.html", {"form": form, "title": _("Generate an allocation list")})


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Allocation list file (CSV)"))


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _statistician(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = services.allocation_list_import(actor=request.user, filename=upload.name, content=upload.read())
        except DomainError as exc:
            form.add_error(None, _("The allocation list was refused whole."))
            problems = exc.fields.get("file", [exc.message])
        else:
            messages.success(request, _("Allocation list imported."))
            return redirect("randomization:list-detail", pk=record.pk)
    return render(request, "randomization/form.html", {"form": form, "title": _("Import an allocation list"),
                                                       "problems": problems, "multipart": True})


@login_required
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _statistician(request.user)
    record = AllocationList.objects.filter(pk=pk).select_related("created_by").first()
    if record is None:
        raise not_found("allocation list")
    slots = Slot.objects.filter(allocation_list=record).select_related("stratum", "assignment", "assignment__participant")
    page = Paginator(slots.order_by("stratum__key", "sequence"), 100).get_page(request.GET.get("page"))
    verified = services.allocation_list_verify(actor=request.user, allocation_list=record) if record.seed else None
    return render(request, "randomization/list_detail.html", {"record": record, "page": page, "verified": verified,
                                                              "strata": record.strata.all()})


class StudyUnblindForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=REASON_MAX_LENGTH)
    password = forms.CharField(label=gettext_lazy("Your password (re-authentication)"), widget=forms.PasswordInput)


@login_required
def study_unblind(request: HttpRequest) -> HttpResponse:
    _statistician(request.user)
    form = StudyUnblindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unblinding.study_unblind(actor=request.user, reason=form.cleaned_data["reason"],
                                     password=form.cleaned_data["password"], request=request)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The study is unblinded."))
            return redirect("randomization:lists")
    return render(request, "randomization/form.html", {"form": form, "title": _("Unblind the study"),
                                                       "note": _("Allowed only once the study-scope lock is set.")})
