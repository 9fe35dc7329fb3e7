"""Generic pages for participants and every registered form (server-rendered, no JavaScript)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import PARTICIPANT_LIST_ROLES, user_roles
from ecrf.core.errors import DomainError, forbidden
from ecrf.core.fields import EntryDateField, entry_formfield
from ecrf.crf import services
from ecrf.crf.annotations import ALL_FIELDS, field_notes_for
from ecrf.crf.history import form_history, participant_history
from ecrf.crf.models import EntryStatus
from ecrf.crf.panels import header_for, panels_for
from ecrf.crf.registry import FormSpec, all_specs, spec_for_slug
from ecrf.crf.selectors import can_read_forms, form_get, participant_get, participants_for
from ecrf.study.services import current_protocol
from ecrf.study.visits import visit_schedule


def _spec(slug: str) -> FormSpec:
    spec = spec_for_slug(slug)
    if spec is None:
        raise Http404(_("No such form."))
    return spec


class ChangeMeta(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=gettext_lazy("Reason for change"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=REASON_MAX_LENGTH,
                             help_text=gettext_lazy("Required once the form has been submitted; at most 1,000 characters."))


class StatusForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=REASON_MAX_LENGTH)


def entry_form(spec: FormSpec, data: Any = None, instance: Any = None, initial: dict[str, Any] | None = None) -> forms.ModelForm:
    """The page form of a spec's entry fields, as every form page parses them (the SOFA preview too)."""
    form_class = forms.modelform_factory(spec.model, fields=spec.fields, formfield_callback=entry_formfield)
    return form_class(data=data, instance=instance, initial=initial, prefix="f")


def entry_sections(spec: FormSpec, rows: list[tuple[Any, list[Any]]]) -> list[tuple[str, list[tuple[Any, list[Any]]]]]:
    """The entry form's (bound field, notes) rows grouped by the spec's sections: the fields in
    no section first under no heading, then each section in order; no section, one group."""
    by_name = {field.name: (field, notes) for field, notes in rows}
    named = {name for _heading, names in spec.sections for name in names}
    groups = [("", [row for row in rows if row[0].name not in named])]
    groups += [(heading, [by_name[n] for n in names if n in by_name]) for heading, names in spec.sections]
    return [(heading, found) for heading, found in groups if found]


def _initial_from_query(spec: FormSpec, query: Any) -> dict[str, str]:
    """Pre-filled values for a new form from query parameters that name one of the spec's entry
    fields (e.g. ``?day=3`` from the casebook grid); anything else is ignored. They only fill
    the blank form: what is saved is what is posted, validated by the service as always."""
    return {name: query[name] for name in spec.fields if query.get(name, "") != ""}


def apply_error(error: DomainError, *forms_: forms.Form) -> None:
    placed = False
    for name, msgs in error.fields.items():
        for f in forms_:
            if name in f.fields:
                for msg in msgs:
                    f.add_error(name, msg)
                placed = True
                break
    if not placed:
        forms_[0].add_error(None, error.message)


@login_required
def participant_list(request: HttpRequest) -> HttpResponse:
    if not user_roles(request.user) & PARTICIPANT_LIST_ROLES:
        raise forbidden(_("Your role does not work with participant records."))
    qs = participants_for(request.user).order_by("site__code", "screening_number")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(screening_number__icontains=q) | qs.filter(subject_id__icontains=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "crf/participant_list.html", {"page": page, "q": q})


@login_required
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    participant = participant_get(request.user, pk)
    roles = user_roles(request.user)
    groups = {key: {"key": key, "title": title, "sections": []} for key, title in _SCHEDULE_GROUPS}
    placed = _schedule_groups()
    for spec in all_specs():
        if not can_read_forms(request.user, spec):
            continue
        entries = list(spec.model.objects.filter(participant=participant).order_by("pk"))
        group = placed.get(spec.key, "any_time")
        groups[group]["sections"].append({"spec": spec, "entries": entries, "add": _add_action(spec, participant, entries, roles, group)})
    facts, alerts = header_for(request.user, participant)
    return render(request, "crf/participant_detail.html",
                  {"participant": participant, "groups": [g for g in groups.values() if g["sections"]],
                   "panels": panels_for(request.user, participant), "facts": facts, "alerts": alerts})


_SCHEDULE_GROUPS = [("screening", gettext_lazy("Screening")), ("treatment", gettext_lazy("Treatment (days 1-15)")),
                    ("follow_up", gettext_lazy("Follow-up (days 28 and 90)")), ("any_time", gettext_lazy("Any time"))]


def _schedule_groups() -> dict[str, str]:
    """Each scheduled form's group on the participant page, from the visit schedule (the study's
    data): screening visit, treatment days, follow-up; a form in no visit is entered any time."""
    protocol = current_protocol()
    placed: dict[str, str] = {}
    for visit in visit_schedule(protocol):
        if visit.day is not None and visit.day < 1:
            group = "screening"
        elif visit.day is not None and visit.day <= max(protocol.treatment_days, protocol.sofa_days) + 1:
            group = "treatment"
        else:
            group = "follow_up"
        for key in visit.forms:
            placed.setdefault(key, group)
    return placed


def _add_action(spec: FormSpec, participant: Any, entries: list[Any], roles: frozenset[str], group: str) -> str | None:
    """The label of the "add" link when entering a new form applies now, else None: the role
    enters this form, the participant is randomized if the form needs it, a once-per-participant
    form is not entered yet, and screening forms are entered on the screening pages."""
    if not roles & spec.write_roles or group == "screening":
        return None
    if spec.requires_randomized and not participant.is_randomized:
        return None
    if spec.one_per == () and any(e.status != EntryStatus.RETRACTED for e in entries):
        return None
    label = str(spec.label)
    if label.lower().startswith(str(_("New")).lower() + " "):
        return _("Record a %(form)s") % {"form": label[0].lower() + label[1:]}
    return _("New %(form)s") % {"form": label}


HISTORY_PAGE_SIZE = 50


class HistoryFilter(forms.Form):
    """Which changes a history page lists; the choices are what the history holds."""

    form = forms.ChoiceField(label=gettext_lazy("Form"), required=False)
    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)
    user = forms.ChoiceField(label=gettext_lazy("Changed by"), required=False)
    since = EntryDateField(label=gettext_lazy("From (date)"), required=False)
    until = EntryDateField(label=gettext_lazy("To (date)"), required=False)

    def __init__(self, data: Any, entries: list[dict[str, Any]]) -> None:
        super().__init__(data)
        anything = [("", _("Any"))]
        self.fields["form"].choices = anything + [(f, f) for f in sorted({e["form"] for e in entries})]
        self.fields["field"].choices = anything + [(f, f) for f in sorted({e["label"] for e in entries if e["label"]})]
        people = {e["who"]: e["who_name"] for e in entries if e["who"]}
        self.fields["user"].choices = anything + sorted(((u, n) for u, n in people.items()), key=lambda c: c[1])

    def chosen(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries that match the filter (all of them while it has an error)."""
        if not self.is_valid():
            return entries
        wanted = self.cleaned_data
        since, until = wanted["since"], wanted["until"]
        return [e for e in entries
                if (not wanted["form"] or e["form"] == wanted["form"])
                and (not wanted["field"] or e["label"] == wanted["field"])
                and (not wanted["user"] or e["who"] == wanted["user"])
                and (since is None or timezone.localtime(e["when"]).date() >= since)
                and (until is None or timezone.localtime(e["when"]).date() <= until)]


def _history_page(request: HttpRequest, *, title: str, entries: list[dict[str, Any]], back: Any,
                  by_form: bool) -> HttpResponse:
    """A history as people read it: labels and values, who by name, the viewer's zone, newest
    first, filtered and paginated (the API keeps the raw entries)."""
    newest_first = sorted(entries, key=lambda e: (e["when"], e["form"], e["record"]), reverse=True)
    chooser = HistoryFilter(request.GET or None, newest_first)
    shown = chooser.chosen(newest_first)
    page = Paginator(shown, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "crf/history.html", {"title": title, "page": page, "entries": page.object_list,
                                                "back": back, "filter": chooser, "by_form": by_form,
                                                "total": len(entries), "matched": len(shown),
                                                "querystring": query.urlencode(), "zone": timezone.get_current_timezone_name()})


@login_required
def participant_history_page(request: HttpRequest, pk: int) -> HttpResponse:
    participant = participant_get(request.user, pk)
    return _history_page(request, title=_("History of %(p)s") % {"p": participant.label},
                         entries=participant_history(request.user, participant), back=participant, by_form=True)


@login_required
def form_new(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    spec = _spec(slug)
    participant = participant_get(request.user, pk, spec.read_roles | spec.write_roles)
    if not user_roles(request.user) & spec.write_roles:
        raise forbidden(_("Your role may not enter %(form)s forms.") % {"form": spec.label})
    entry = entry_form(spec, request.POST or None, initial=_initial_from_query(spec, request.GET))
    if request.method == "POST" and entry.is_valid():
        data = {name: entry.cleaned_data[name] for name in spec.fields}
        try:
            form = services.form_create(actor=request.user, spec=spec, participant=participant, data=data,
                                        submit="submit" in request.POST)
        except DomainError as exc:
            apply_error(exc, entry)
        else:
            messages.success(request, _("%(form)s saved.") % {"form": spec.label})
            return redirect(_next_page(spec, form))
    return render(request, "crf/form_edit.html", {"spec": spec, "participant": participant, "entry": entry, "meta": None,
                                                   "form_obj": None,
                                                   "entry_sections": entry_sections(spec, [(f, []) for f in entry])})


def _next_page(spec: FormSpec, form: Any) -> str:
    """Where a save leads: the page the form's app names for this entry (a serious AE to its SAE
    report and clock), else the form itself."""
    found = spec.next_page(form) if spec.next_page is not None else None
    return found or reverse("crf:form-detail", kwargs={"slug": spec.slug, "form_id": form.pk})


@login_required
def form_detail(request: HttpRequest, slug: str, form_id: int) -> HttpResponse:
    spec = _spec(slug)
    if not can_read_forms(request.user, spec):
        raise forbidden(_("Your role may not read %(form)s forms.") % {"form": spec.label})
    form_obj = form_get(request.user, spec, form_id)
    can_write = bool(user_roles(request.user) & spec.write_roles) and form_obj.status != EntryStatus.RETRACTED
    # A draft opens for entry; a submitted form opens read-only, and its "Edit" action (?edit=1)
    # opens the correction, which asks for the reason (invariant 3).
    editing = can_write and (form_obj.status == EntryStatus.DRAFT or request.method == "POST" or request.GET.get("edit") == "1")
    entry = entry_form(spec, request.POST or None, instance=form_obj) if editing else None
    meta = ChangeMeta(request.POST or None, initial={"expected_version": form_obj.version}) if editing else None
    if request.method == "POST":
        if not can_write:
            raise forbidden(_("Your role may not change %(form)s forms.") % {"form": spec.label})
        # Re-read the stored instance: a ModelForm's validation mutates the instance it was given.
        stored = form_get(request.user, spec, form_id)
        if entry.is_valid() and meta.is_valid():
            data = {name: entry.cleaned_data[name] for name in spec.fields}
            try:
                services.form_update(actor=request.user, spec=spec, form=stored, data=data,
                                     version=meta.cleaned_data["expected_version"], reason=meta.cleaned_data["reason"],
                                     submit="submit" in request.POST)
            except DomainError as exc:
                apply_error(exc, entry, meta)
            else:
                messages.success(request, _("%(form)s saved.") % {"form": spec.label})
                return redirect(_next_page(spec, stored))
    values = [(spec.model._meta.get_field(n).verbose_name, getattr(form_obj, f"get_{n}_display", lambda n=n: getattr(form_obj, n))())
              for n in spec.fields + spec.derived_fields]
    status_form = StatusForm(initial={"expected_version": form_obj.version}) if can_write else None
    # Notes from the data-management apps (open queries, ...) beside the fields they concern.
    notes = field_notes_for(request.user, form_obj)
    entry_rows = [(field, notes.get(field.name, [])) for field in entry] if entry is not None else []
    value_rows = [(label, value, notes.get(name, []))
                  for (label, value), name in zip(values, spec.fields + spec.derived_fields, strict=True)]
    return render(request, "crf/form_edit.html", {"spec": spec, "participant": form_obj.participant, "entry": entry,
                                                   "meta": meta, "form_obj": form_obj, "values": values,
                                                   "status_form": status_form, "entry_sections": entry_sections(spec, entry_rows),
                                                   "value_rows": value_rows, "form_notes": notes.get(ALL_FIELDS, []),
                                                   "can_edit": can_write and entry is None and form_obj.ever_submitted})


_STATUS_ACTIONS = {"retract": services.form_retract, "not-done": services.form_mark_not_done}


@login_required
def form_status(request: HttpRequest, slug: str, form_id: int, action: str) -> HttpResponse:
    spec = _spec(slug)
    func = _STATUS_ACTIONS.get(action)
    if func is None:
        raise Http404(_("No such action."))
    form_obj = form_get(request.user, spec, form_id)
    # Retracting or marking not done is a change: the form's readers who may not enter it are
    # refused here (403), as on the form page, rather than shown a form the service would refuse.
    if not user_roles(request.user) & spec.write_roles:
        raise forbidden(_("Your role may not change %(form)s forms.") % {"form": spec.label})
    status_form = StatusForm(request.POST or None, initial={"expected_version": form_obj.version})
    if request.method == "POST" and status_form.is_valid():
        try:
            func(actor=request.user, spec=spec, form=form_obj, version=status_form.cleaned_data["expected_version"],
                 reason=status_form.cleaned_data["reason"])
        except DomainError as exc:
            apply_error(exc, status_form)
        else:
            messages.success(request, _("Done."))
            return redirect("crf:form-detail", slug=spec.slug, form_id=form_obj.pk)
    return render(request, "crf/form_status.html", {"spec": spec, "form_obj": form_obj, "status_form": status_form, "action": action})


@login_required
def form_history_page(request: HttpRequest, slug: str, form_id: int) -> HttpResponse:
    spec = _spec(slug)
    form_obj = form_get(request.user, spec, form_id)
    return _history_page(request, title=_("History of %(form)s #%(id)s") % {"form": spec.label, "id": form_obj.pk},
                         entries=form_history(spec, form_obj), back=form_obj.participant, by_form=False)
