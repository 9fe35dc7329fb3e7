"""Safety pages: AE list and detail with SAE reports (site), the clock board (safety officers,
pharmacovigilance), the expectedness step, the single-case unblinding step, adjudication, and
coding suggestions. Thin: parse input, call one service or selector, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.audit.models import REASON_MAX_LENGTH, EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, forbidden, not_found
from ecrf.core.fields import EntryDateTimeField
from ecrf.labs import selectors as lab_selectors
from ecrf.schedule.days import day_of_date
from safety import links, selectors, services
from safety.clock_timeline import ClockSpan, clock_timeline
from safety.meddra import suggestions
from safety.models import (
    AdjudicationStatus,
    AdverseEvent,
    CaseStatus,
    Causality,
    ExpeditedAssessment,
    PvClock,
    PvSubmission,
    ReportStatus,
    SAEReport,
    SpecialInterest,
)

if TYPE_CHECKING:
    from ecrf.accounts.models import User

YES_NO = [("yes", "Yes"), ("no", "No")]
CAUSALITY_CHOICES = [("", "— (as the investigator)")] + list(Causality.choices)


class SubmissionForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    submitted_at = EntryDateTimeField(label="Sent at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                       help_text="In your time zone.")
    recipient = forms.CharField(label="Sent to", max_length=200)
    reference = forms.CharField(label="Reference", max_length=100)
    narrative = forms.CharField(label="Narrative", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class FollowUpRequestForm(forms.Form):
    question = forms.CharField(label="What should the site follow up on?", widget=forms.Textarea(attrs={"rows": 3}))


class AssessmentForm(forms.Form):
    expected = forms.ChoiceField(label="Expected under the reference safety information", choices=YES_NO, widget=forms.RadioSelect)
    rsi_reference = forms.CharField(label="Reference safety information (document, version)", max_length=200)
    sponsor_aware_at = EntryDateTimeField(label="Sponsor became aware at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    sponsor_causality_iv = forms.ChoiceField(label="Sponsor causality, IV study drug", choices=CAUSALITY_CHOICES, required=False)
    sponsor_causality_sc = forms.ChoiceField(label="Sponsor causality, SC study drug", choices=CAUSALITY_CHOICES, required=False)


class UnblindForm(forms.Form):
    reason = forms.CharField(label="Reason for unblinding this case", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=REASON_MAX_LENGTH)
    password = forms.CharField(label="Your password (re-authentication)", widget=forms.PasswordInput)


class SusarReportForm(forms.Form):
    clock = forms.IntegerField(widget=forms.HiddenInput)
    submitted_at = EntryDateTimeField(label="Sent at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    recipient = forms.CharField(label="Sent to (authority)", max_length=200)
    reference = forms.CharField(label="Reference", max_length=100)


class ReviewForm(forms.Form):
    serious = forms.ChoiceField(label="Serious", choices=YES_NO, widget=forms.RadioSelect)
    related_iv = forms.ChoiceField(label="Related to the IV study drug", choices=YES_NO, widget=forms.RadioSelect)
    related_sc = forms.ChoiceField(label="Related to the SC study drug", choices=YES_NO, widget=forms.RadioSelect)
    expected = forms.ChoiceField(label="Expected", choices=YES_NO, widget=forms.RadioSelect)
    llt_code = forms.IntegerField(label="Final coded term (LLT code)")
    special_interest = forms.ChoiceField(label="Special interest", choices=SpecialInterest.choices)
    comment = forms.CharField(label="Comment", required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _place(error: DomainError, form: forms.Form) -> None:
    placed = False
    for name, msgs in error.fields.items():
        if name in form.fields:
            for msg in msgs:
                form.add_error(name, msg)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _require(user: User, roles: set[str] | frozenset[str], message: str) -> None:
    if not user_roles(user) & roles:
        raise forbidden(message)


# --- adverse events (site) ----------------------------------------------------------------------


@login_required
def ae_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, selectors.AE_SPEC.read_roles, "Your role does not read adverse events.")
    qs = selectors.adverse_events_for(request.user).exclude(status="retracted").order_by("-onset_date", "-pk")
    if request.GET.get("serious") == "1":
        qs = qs.filter(serious=True)
    if request.GET.get("death_check") == "1":
        qs = qs.exclude(death_check="")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "safety/ae_list.html", {"page": page})


@login_required
def ae_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, selectors.AE_SPEC.read_roles, "Your role does not read adverse events.")
    ae = selectors.adverse_event_get(request.user, pk)
    roles = user_roles(request.user)
    reports = list(ae.sae_reports.order_by("sequence").prefetch_related("submissions__submitted_by"))
    can_submit = bool(roles & SITE_ENTRY_ROLES)
    assessment = ExpeditedAssessment.objects.filter(adverse_event=ae).first()
    return render(request, "safety/ae_detail.html", {
        "ae": ae, "reports": reports, "clocks": selectors.clocks_for_ae(request.user, ae),
        "submission_form": SubmissionForm(initial={"submitted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}) if can_submit else None,
        "case_status": selectors.case_status_label(request.user, assessment),
        "can_assess": Role.SAFETY_OFFICER in roles and assessment is None and ae.serious and ae.status == "submitted" and not ae.is_exempt,
        "can_edit": bool(roles & SITE_ENTRY_ROLES),
        **_followup_context(request.user, ae, reports),
    })


def _followup_context(user: User, ae: AdverseEvent, reports: list[SAEReport], form: forms.Form | None = None) -> dict[str, Any]:
    can_request = (Role.SAFETY_OFFICER in user_roles(user) and ae.serious and ae.status == "submitted"
                   and any(r.status == ReportStatus.SUBMITTED for r in reports))
    return {"followup_requests": list(ae.followup_requests.select_related("requested_by", "report")),
            "followup_form": (form or FollowUpRequestForm()) if can_request else None}


@login_required
@require_POST
def followup_request(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, {Role.SAFETY_OFFICER}, "Only safety officers ask sites for follow-up.")
    ae = selectors.adverse_event_get(request.user, pk)
    form = FollowUpRequestForm(request.POST)
    if form.is_valid():
        try:
            services.followup_request(actor=request.user, ae=ae, question=form.cleaned_data["question"])
        except DomainError as exc:
            _place(exc, form)
        else:
            messages.success(request, "Follow-up requested; the site has been notified.")
            return redirect("safety:ae-detail", pk=ae.pk)
    reports = list(ae.sae_reports.order_by("sequence").prefetch_related("submissions__submitted_by"))
    return render(request, "safety/ae_detail.html", {
        "ae": ae, "reports": reports, "clocks": selectors.clocks_for_ae(request.user, ae), "can_edit": False,
        "case_status": selectors.case_status_label(request.user, ExpeditedAssessment.objects.filter(adverse_event=ae).first()),
        **_followup_context(request.user, ae, reports, form),
    }, status=400)


@login_required
@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, SITE_ENTRY_ROLES, "Only site staff submit SAE reports.")
    report = SAEReport.objects.select_related("adverse_event").filter(pk=pk).first()
    if report is None:
        raise not_found("SAE report")
    ae = selectors.adverse_event_get(request.user, report.adverse_event_id)  # 404 outside the site
    form = SubmissionForm(request.POST)
    if form.is_valid():
        try:
            services.sae_report_submit(actor=request.user, report=report, version=form.cleaned_data["expected_version"],
                                       submitted_at=form.cleaned_data["submitted_at"], recipient=form.cleaned_data["recipient"],
                                       reference=form.cleaned_data["reference"], narrative=form.cleaned_data["narrative"])
        except DomainError as exc:
            _place(exc, form)
        else:
            messages.success(request, "SAE report submitted.")
            return redirect("safety:ae-detail", pk=ae.pk)
    reports = list(ae.sae_reports.order_by("sequence"))
    return render(request, "safety/ae_detail.html", {
        "ae": ae, "reports": reports, "clocks": selectors.clocks_for_ae(request.user, ae), "submission_form": form,
        "failed_report": report.pk, "can_edit": True,
        "case_status": selectors.case_status_label(request.user, ExpeditedAssessment.objects.filter(adverse_event=ae).first()),
        **_followup_context(request.user, ae, reports),
    }, status=400)


@login_required
def coding(request: HttpRequest) -> HttpResponse:
    _require(request.user, selectors.AE_SPEC.read_roles, "Your role does not code adverse events.")
    q = request.GET.get("q", "").strip()
    return render(request, "safety/coding.html", {"q": q, "results": suggestions(q)})


# --- the clock board and the expedited-reporting decision ------------------------------------


@login_required
def clock_board(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = selectors.clocks_for_board(request.user, now=now)
    to_assess = list(selectors.assessment_candidates(request.user)[:100]) if Role.SAFETY_OFFICER in user_roles(request.user) else []
    timeline = clock_timeline([ClockSpan(f"{'pv-' if row.clock.visibility == 'pv_only' else ''}clock-{row.clock.pk}",
                                         f"AE #{row.ae.pk} · {row.label}", row.state, row.clock.started_at, row.clock.due_at,
                                         row.state_label)
                               for row in rows], now=now)
    return render(request, "safety/clock_board.html", {"rows": rows, "now": now, "to_assess": to_assess,
                                                       "timeline": timeline})


@login_required
def assess(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, {Role.SAFETY_OFFICER}, "Only safety officers assess expectedness.")
    ae = selectors.adverse_event_get(request.user, pk)

    product = links.possible_product(ae.participant)
    form = AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assessment_record(actor=request.user, ae=ae, expected=data["expected"] == "yes",
                                       rsi_reference=data["rsi_reference"], sponsor_aware_at=data["sponsor_aware_at"],
                                       sponsor_causality_iv=data["sponsor_causality_iv"], sponsor_causality_sc=data["sponsor_causality_sc"])
        except DomainError as exc:
            _place(exc, form)
        else:
            messages.success(request, "Expectedness recorded.")
            return redirect("safety:ae-detail", pk=ae.pk)
    return render(request, "safety/assess.html", {"ae": ae, "form": form, "product": product,
                                                  "assessment": ExpeditedAssessment.objects.filter(adverse_event=ae).first()})


def _require_pv(request: HttpRequest, what: str) -> None:
    if Role.PHARMACOVIGILANCE not in user_roles(request.user):
        # Asking for a SUSAR's outcome (and so the arm) without the role: refused and audited.
        event_record(kind=EventKind.ACCESS_DENIED, actor=request.user, request=request, object_type="safety.case",
                     object_id=str(request.resolver_match.kwargs.get("pk", "")), what=what)
        raise forbidden("Only pharmacovigilance unblinds and decides potential SUSARs.")


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    _require_pv(request, "potential SUSAR list")
    return render(request, "safety/case_list.html", {"cases": selectors.cases_for_pv(request.user)})


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_pv(request, "potential SUSAR (unblinding step)")
    case = selectors.case_get(request.user, pk)
    unblind = UnblindForm(request.POST if request.POST.get("step") == "unblind" else None)
    report_form = SusarReportForm(request.POST if request.POST.get("step") == "report" else None)
    if request.method == "POST" and request.POST.get("step") == "unblind" and unblind.is_valid():
        try:
            services.susar_unblind_and_decide(actor=request.user, assessment=case, reason=unblind.cleaned_data["reason"],
                                              password=unblind.cleaned_data["password"], request=request)
        except DomainError as exc:
            _place(exc, unblind)
        else:
            messages.success(request, "Case decided.")
            return redirect("safety:case-detail", pk=case.pk)
    if request.method == "POST" and request.POST.get("step") == "report" and report_form.is_valid():
        clock = PvClock.objects.filter(pk=report_form.cleaned_data["clock"], adverse_event=case.adverse_event).first()
        try:
            if clock is None:
                raise not_found("clock")
            services.susar_report_submit(actor=request.user, clock=clock, submitted_at=report_form.cleaned_data["submitted_at"],
                                         recipient=report_form.cleaned_data["recipient"], reference=report_form.cleaned_data["reference"])
        except DomainError as exc:
            _place(exc, report_form)
        else:
            messages.success(request, "SUSAR report recorded.")
            return redirect("safety:case-detail", pk=case.pk)
    ae = case.adverse_event
    clocks = selectors.clocks_for_ae(request.user, ae)
    return render(request, "safety/case_detail.html", {
        "case": case, "ae": ae, "clocks": clocks, "unblind": unblind if case.status == CaseStatus.POTENTIAL_SUSAR else None,
        "report_form": report_form, "open_susar_clocks": [r for r in clocks if isinstance(r.clock, PvClock) and r.clock.is_open],
        "submissions": PvSubmission.objects.filter(clock__adverse_event=ae).select_related("submitted_by"),
    })


# --- adjudication ---------------------------------------------------------------------------------


@login_required
def adjudication_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "safety/adjudication_queue.html", {"queue": selectors.adjudication_queue(request.user)})


@login_required
def adjudication_form(request: HttpRequest, pk: int) -> HttpResponse:
    adj = selectors.adjudication_get(request.user, pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: (v == "yes" if k in ("serious", "related_iv", "related_sc", "expected") else v)
                for k, v in form.cleaned_data.items()}
        try:
            services.adjudication_review_submit(actor=request.user, adjudication=adj, data=data)
        except DomainError as exc:
            _place(exc, form)
        else:
            messages.success(request, "Review recorded.")
            return redirect("safety:adjudication-form", pk=adj.pk)
    adj.refresh_from_db()
    reviews = selectors.reviews_visible(request.user, adj)
    reviewed = any(r.reviewer_id == request.user.pk for r in reviews)
    ae = adj.adverse_event
    # The event as the adjudicator weighs it: its dates, the site's reports and narrative, and the
    # local labs of the days around the onset (blinded data only).
    onset_day = day_of_date(ae.participant, ae.onset_date)
    return render(request, "safety/adjudication_form.html", {
        "adj": adj, "ae": ae, "reviews": reviews, "onset_day": onset_day,
        "sae_reports": list(ae.sae_reports.order_by("sequence")),
        "labs": lab_selectors.panels_near(ae.participant, day=onset_day), "lab_units": lab_selectors.standard_units(),
        "form": None if reviewed or adj.status == AdjudicationStatus.FINAL else form,
    })


@login_required
def review_detail(request: HttpRequest, pk: int, review_id: int) -> HttpResponse:
    adj = selectors.adjudication_get(request.user, pk)
    review = selectors.review_get(request.user, adj, review_id, request=request)
    return render(request, "safety/review_detail.html", {"adj": adj, "review": review})


_ = (AdverseEvent, ReportStatus)
