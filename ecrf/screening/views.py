"""Screening pages: the log, a new entry, a participant's screening page (form, outcome, consent,
central lab), the consent lifecycle, the lab's CSV import and the screening report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.crf.views import apply_error as _apply_error
from ecrf.core.errors import DomainError, forbidden
from ecrf.core.fields import EntryDateField, EntryDateTimeField, entry_formfield
from ecrf.crf import services as crf_services
from ecrf.crf.panels import panels_for
from ecrf.crf.selectors import form_get, participant_get
from ecrf.screening import enrolment, flow, imports, services
from ecrf.screening.eligibility import reason_label
from ecrf.screening.models import (
    ConsentBy,
    LabImport,
    PatientDecision,
    Screening,
    ScreeningCorrection,
    WithdrawalType,
)
from ecrf.screening.selectors import (
    REPORT_ROLES,
    SCREENING_LOG_ROLES,
    consent_for,
    lab_result_for,
    screening_for,
    screening_log_for,
    randomizations_for_report,
    screening_report,
    withdrawal_for,
)
from ecrf.screening.specs import CENTRAL_LAB, CONSENT, SCREENING
from ecrf.study.models import Site
from ecrf.study.services import current_protocol

_DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _screening_form_class() -> type[forms.ModelForm]:
    """The screening form with the study's configured checklist: unconfigured criteria hidden,
    further criteria as yes/no questions."""
    protocol = current_protocol()
    shown = set(services.flag_exclusion_codes(protocol))
    fields = [f for f in SCREENING.fields if f != "extra_exclusions"
              and not (f.startswith("excl_") and f.removeprefix("excl_") not in shown)]
    attrs: dict[str, Any] = {}
    for code, label in services.extra_criteria(protocol):
        attrs[f"extra_{code}"] = forms.NullBooleanField(label=label, required=False)
    base = forms.modelform_factory(Screening, fields=fields, formfield_callback=entry_formfield, widgets={"sepsis3_at": _DT})
    return type("ScreeningEntryForm", (base,), attrs)


def _screening_data(entry: forms.ModelForm, protocol: Any) -> dict[str, Any]:
    data = {name: entry.cleaned_data[name] for name in entry._meta.fields}  # type: ignore[attr-defined]
    extra = {code: entry.cleaned_data.get(f"extra_{code}") for code, _ in services.extra_criteria(protocol)}
    if extra:
        data["extra_exclusions"] = extra
    return data


def _initial_extra(screening: Screening | None) -> dict[str, Any]:
    return {f"extra_{k}": v for k, v in ((screening.extra_exclusions or {}) if screening else {}).items()}



class ChangeMeta(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason for change"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=REASON_MAX_LENGTH,
                             help_text=gettext_lazy("Required once the form has been submitted; at most 1,000 characters."))


def _require_log(user: Any) -> None:
    if not user_roles(user) & SCREENING_LOG_ROLES:
        raise forbidden(_("Your role does not work with the screening log."))


@login_required
def log(request: HttpRequest) -> HttpResponse:
    _require_log(request.user)
    page = Paginator(screening_log_for(request.user), 50).get_page(request.GET.get("page"))
    for s in page:
        s.reason_labels = [reason_label(c) for c in s.ineligibility_reasons or ()]
    return render(request, "screening/log.html", {"page": page, "can_screen": bool(user_roles(request.user) & SITE_ENTRY_ROLES)})


class NewEntryMeta(forms.Form):
    site = forms.ModelChoiceField(label=gettext_lazy("Site"), queryset=Site.objects.none(), to_field_name="code")
    screening_number = forms.CharField(label=gettext_lazy("Screening number"), max_length=30,
                                       help_text=gettext_lazy("Unique at the site. No names or hospital record numbers."))


@login_required
def new(request: HttpRequest) -> HttpResponse:
    if not user_roles(request.user) & SITE_ENTRY_ROLES:
        raise forbidden(_("Only site staff may enter patients in the screening log."))
    protocol = current_protocol()
    sites = Site.objects.filter(pk__in=member_site_ids(request.user)).order_by("code")
    meta = NewEntryMeta(request.POST or None, initial={"site": sites.first().code if sites.count() == 1 else None})
    meta.fields["site"].queryset = sites
    entry = _screening_form_class()(request.POST or None, prefix="f")
    if request.method == "POST" and meta.is_valid() and entry.is_valid():
        try:
            form = services.screening_register(actor=request.user, site=meta.cleaned_data["site"],
                                               screening_number=meta.cleaned_data["screening_number"],
                                               data=_screening_data(entry, protocol), submit="submit" in request.POST)
        except DomainError as exc:
            _apply_error(exc, entry, meta)
        else:
            messages.success(request, _("Screening %(n)s saved: %(outcome)s.") % {
                "n": form.participant.screening_number, "outcome": form.get_eligibility_display().lower()})
            return redirect("screening:detail", pk=form.participant_id)
    return render(request, "screening/new.html", {"meta": meta, "entry": entry})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The participant's screening: the outcome at the top, then the form (editable by site
    staff), consent and the central lab's results (read-only here; the lab enters them)."""
    _require_log(request.user)
    participant = participant_get(request.user, pk, SCREENING_LOG_ROLES)
    protocol = current_protocol()
    screening = screening_for(participant)
    roles = user_roles(request.user)
    can_write = bool(roles & SITE_ENTRY_ROLES) and participant.site_id in member_site_ids(request.user)
    entry = meta = None
    if screening is not None and can_write:
        entry = _screening_form_class()(request.POST or None, instance=screening, prefix="f", initial=_initial_extra(screening))
        meta = ChangeMeta(request.POST or None, initial={"expected_version": screening.version})
        if request.method == "POST" and entry.is_valid() and meta.is_valid():
            stored = form_get(request.user, SCREENING, screening.pk)
            try:
                crf_services.form_update(actor=request.user, spec=SCREENING, form=stored,
                                         data=_screening_data(entry, protocol),
                                         version=meta.cleaned_data["expected_version"],
                                         reason=meta.cleaned_data["reason"], submit="submit" in request.POST)
            except DomainError as exc:
                _apply_error(exc, entry, meta)
            else:
                messages.success(request, _("Screening saved."))
                return redirect("screening:detail", pk=participant.pk)
    elif request.method == "POST":
        raise forbidden(_("Your role may not change the screening form."))
    consent = consent_for(participant)
    values = []
    if screening is not None:
        for name in SCREENING.fields:
            if name.startswith("excl_") and name.removeprefix("excl_") not in services.flag_exclusion_codes(protocol):
                continue
            if name == "extra_exclusions":
                for code, label in services.extra_criteria(protocol):
                    values.append((label, (screening.extra_exclusions or {}).get(code)))
                continue
            field = Screening._meta.get_field(name)
            display = getattr(screening, f"get_{name}_display", None)
            values.append((field.verbose_name, display() if display else getattr(screening, name)))
    return render(request, "screening/detail.html", {
        "participant": participant, "screening": screening, "entry": entry, "meta": meta, "values": values,
        "reasons": [reason_label(c) for c in (screening.ineligibility_reasons if screening else [])],
        "consent": consent, "withdrawal": withdrawal_for(participant), "lab": lab_result_for(participant),
        "corrections": ScreeningCorrection.objects.filter(participant=participant),
        "can_write": can_write, "can_enter_lab": Role.LAB in roles,
        "consent_can_decide": bool(consent and can_write and consent.consent_by == ConsentBy.REPRESENTATIVE
                                   and consent.decision == "given" and not consent.patient_decision
                                   and not consent.withdrawal_type),
        "consent_can_withdraw": bool(consent and can_write and consent.is_valid_consent and consent.withdrawal_type != "data_use"),
        "consent_slug": CONSENT.slug, "lab_slug": CENTRAL_LAB.slug, "screening_slug": SCREENING.slug,
        "panels": [p for p in panels_for(request.user, participant) if p.order >= 20],
    })


class PatientDecisionForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label=gettext_lazy("Patient's decision"), choices=PatientDecision.choices)
    decided_at = EntryDateTimeField(label=gettext_lazy("Date and time of the decision"), widget=_DT)
    form_version = forms.CharField(label=gettext_lazy("Consent form version signed by the patient"), required=False)
    withdrawal_type = forms.ChoiceField(label=gettext_lazy("If refused: what the refusal withdraws from"),
                                        choices=[("", "—"), *WithdrawalType.choices], required=False,
                                        help_text=gettext_lazy("Required once the participant is randomized."))
    reason = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=REASON_MAX_LENGTH)


class WithdrawalForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    withdrawal_type = forms.ChoiceField(label=gettext_lazy("Withdrawal"), choices=WithdrawalType.choices)
    withdrawn_on = EntryDateField(label=gettext_lazy("Date of withdrawal"), widget=_DATE)
    reason = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=REASON_MAX_LENGTH)

    def __init__(self, *args: Any, allow_data_use: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not allow_data_use:
            self.fields["withdrawal_type"].choices = [c for c in WithdrawalType.choices if c[0] != WithdrawalType.DATA_USE]


def _consent_action(request: HttpRequest, pk: int, *, form_class: type[forms.Form], template: str, call: Any,
                    **form_kwargs: Any) -> HttpResponse:
    consent = form_get(request.user, CONSENT, pk)
    if not user_roles(request.user) & CONSENT.write_roles:
        raise forbidden(_("Your role may not record consent decisions."))
    form = form_class(request.POST or None, initial={"expected_version": consent.version}, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            call(consent, form.cleaned_data)
        except DomainError as exc:
            _apply_error(exc, form)
        else:
            messages.success(request, _("Consent record updated."))
            return redirect("screening:detail", pk=consent.participant_id)
    return render(request, template, {"consent": consent, "form": form, "participant": consent.participant})


@login_required
def consent_decision(request: HttpRequest, pk: int) -> HttpResponse:
    def call(consent: Any, data: dict[str, Any]) -> Any:
        return services.consent_record_patient_decision(
            actor=request.user, consent=consent, decision=data["decision"], decided_at=data["decided_at"],
            version=data["expected_version"], form_version=data["form_version"],
            withdrawal_type=data["withdrawal_type"], reason=data["reason"])

    return _consent_action(request, pk, form_class=PatientDecisionForm, template="screening/consent_decision.html", call=call)


@login_required
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def call(consent: Any, data: dict[str, Any]) -> Any:
        return services.consent_withdraw(actor=request.user, consent=consent, withdrawal_type=data["withdrawal_type"],
                                         withdrawn_on=data["withdrawn_on"], version=data["expected_version"],
                                         reason=data["reason"])

    return _consent_action(request, pk, form_class=WithdrawalForm, template="screening/consent_withdraw.html", call=call,
                           allow_data_use=current_protocol().allow_withdrawal_of_collected_data)


class LabImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Central-lab CSV file"))


@login_required
def lab_import(request: HttpRequest) -> HttpResponse:
    if Role.LAB not in user_roles(request.user):
        raise forbidden(_("Only the central lab imports central-lab results."))
    form = LabImportForm(request.POST or None, request.FILES or None)
    record = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = imports.lab_import_csv(actor=request.user, filename=upload.name, content=upload.read())
        if record.status == "accepted":
            messages.success(request, _("File accepted: %(c)s created, %(u)s updated, %(n)s unchanged.") % {
                "c": record.created_count, "u": record.updated_count, "n": record.unchanged_count})
            return redirect("screening:lab-import")
    recent = LabImport.objects.select_related("uploaded_by")[:20]
    return render(request, "screening/lab_import.html", {"form": form, "record": record, "recent": recent,
                                                        "columns": imports.REQUIRED + imports.VALUE_COLUMNS,
                                                        "refusal": imports.refusal_message(record) if record else ""},
                  status=400 if record is not None else 200)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    if not user_roles(request.user) & REPORT_ROLES:
        raise forbidden(_("Your role does not see the screening report."))
    data = screening_report(request.user)
    codes = sorted({c for row in [*data["sites"], *([data["total"]] if data["total"] else [])]
                    for c in row["not_eligible_by_reason"]})
    # The pictures follow the page's site filter (?site=<code>): one site, or every site in the report.
    site_codes = [row["site"] for row in data["sites"]]
    chosen = request.GET.get("site", "")
    chosen = chosen if chosen in site_codes else ""
    flow_row = (next(r for r in data["sites"] if r["site"] == chosen) if chosen
                else data["total"] or flow.sum_rows(data["sites"]))
    return render(request, "screening/report.html", {
        "data": data, "reasons": [(c, reason_label(c)) for c in codes],
        "site_codes": site_codes, "chosen_site": chosen, "flow_row": flow_row,
        "flow": flow.consort_flow(flow_row, label=reason_label, translate=_),
        **_enrolment_charts(request.user, site_codes, chosen),
    })


PHENOTYPE_LABELS = {"MALS": gettext_lazy("MALS"), "immunoparalysis": gettext_lazy("Immunoparalysis"),
                    None: gettext_lazy("Phenotype not recorded")}


def _enrolment_charts(user: Any, site_codes: list[str], chosen: str) -> dict[str, Any]:
    """Cumulative randomized by week, one line per site and one per phenotype (the week of each
    randomization in the viewer's time zone); the site filter keeps one site."""
    by_site: dict[str, list[Any]] = {code: [] for code in ([chosen] if chosen else site_codes)}
    by_phenotype: dict[str, list[Any]] = {}
    for code, phenotype, at in randomizations_for_report(user):
        if code not in by_site:
            continue
        day = timezone.localtime(at).date()
        by_site[code].append(day)
        by_phenotype.setdefault(str(PHENOTYPE_LABELS.get(phenotype, phenotype)), []).append(day)
    today = timezone.localdate()
    return {"enrolment_by_site": enrolment.enrolment_chart(by_site, today=today),
            "enrolment_by_phenotype": enrolment.enrolment_chart(dict(sorted(by_phenotype.items())), today=today)}
