"""Export pages: the packages this role may see, each with its progress (a ``<progress>`` bar; the
page reloads itself through the ``Refresh`` header while a package is being written, so no
JavaScript is needed), a button to request one, and the download. Thin over the services."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.core.fields import EntryDateTimeField

from ecrf.accounts.roles import user_roles
from ecrf.analysis import report
from ecrf.analysis.primary import ACTIVE, ARMS, PLACEBO, percent, summary_line
from ecrf.analysis.services import ANALYSIS_ROLES, package_analysis
from ecrf.core.errors import DomainError
from ecrf.exports import selectors, services, unblinded
from ecrf.exports.models import ACTIVE_STATUSES, ExportJob, ExportSource
from ecrf.review.selectors import study_lock_current

REFRESH_SECONDS = 3


def _refreshing(response: HttpResponse, jobs: list[ExportJob]) -> HttpResponse:
    if any(j.status in ACTIVE_STATUSES for j in jobs):
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


def _page(request: HttpRequest, *, status: int = 200, error: str = "") -> HttpResponse:
    roles = user_roles(request.user)
    jobs = list(selectors.exports_for(request.user)[:100])
    lock = study_lock_current()
    response = render(request, "exports/list.html", {
        "jobs": jobs, "lock": lock, "error": error, "may_see_cuts": bool(roles & selectors.CUT_READ_ROLES),
        "may_request_blinded": bool(roles & selectors.BLINDED_LOCK_ROLES) and lock is not None,
        "may_request_unblinded": bool(roles & selectors.UNBLINDED_LOCK_ROLES) and lock is not None
        and unblinded.study_unblinded(),
    }, status=status)
    return _refreshing(response, jobs)


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    selectors.require_export_role(request.user)
    if request.method != "POST":
        return _page(request)
    kind = request.POST.get("kind", "blinded")
    if kind not in ("blinded", "unblinded"):
        return _page(request, status=400, error=_("Choose a blinded or an unblinded package."))
    try:
        job = services.export_request(actor=request.user, blinded=kind == "blinded")
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _page(request, status=exc.status, error=exc.message)
    messages.success(request, _("Export %(pk)s queued; this page shows its progress.") % {"pk": job.pk})
    return redirect("exports:detail", pk=job.pk)


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.export_get(request.user, pk)
    may_analyse = job.is_done and not job.blinded and bool(user_roles(request.user) & ANALYSIS_ROLES)
    return _refreshing(render(request, "exports/detail.html", {"job": job, "may_analyse": may_analyse}), [job])


@login_required
def export_analysis(request: HttpRequest, pk: int) -> HttpResponse:
    """The primary analysis and the safety tables of an unblinded package, read from its ADaM and
    SDTM (the service checks the role, the kind, the state and the file first; a refusal renders
    the error page). On a closed cut this is the DSMB's report."""
    job = selectors.export_get(request.user, pk)
    done = package_analysis(actor=request.user, job=job, request=request)
    result = done.result
    forest = [{"name": name, "arm": arm, "responders": g[key]["responders"], "n": g[key]["n"],
               "proportion": percent(g[key]["proportion"]),
               "wilson": " to ".join(percent(v) for v in g[key]["wilson95"]) if g[key]["wilson95"][0] is not None else "-"}
              for name, g in report.forest_groups(result) for arm, key in ((ACTIVE, "active"), (PLACEBO, "placebo"))]
    sofa = result["mean_sofa_by_day"]
    safety = done.safety
    days = sorted({int(d) for a in ARMS for d in sofa.get(a, {})})
    return render(request, "exports/analysis.html", {
        "job": done.job, "analysis": done, "result": result, "summary": summary_line(result),
        "responders": [report.comparison_cells(name, g) for name, g in report.forest_groups(result)],
        "mortality": [report.comparison_cells(_("Day 28"), result["mortality_day28"]),
                      report.comparison_cells(_("Day 90"), result["mortality_day90"])],
        "logistic": report.logistic_text(result),
        "not_evaluable": [(arm, result["not_evaluable_counted_as_non_responders"][arm]) for arm in ARMS],
        "forest_svg": report.forest_svg(result, inline_style=False), "forest_rows": forest,
        "sofa_svg": report.sofa_svg(result, inline_style=False), "arms": ARMS,
        "sofa_rows": [{"day": d, "means": ["-" if sofa.get(a, {}).get(str(d)) is None else f"{sofa[a][str(d)]:.2f}"
                                           for a in ARMS]} for d in days],
        "dsmb": done.job.source == ExportSource.CUT, "safety": safety, "soc_rows": report.soc_rows(safety),
        "safety_n": [(arm, safety["n"][arm]) for arm in ARMS],
        "signals": [{"signal": s, "rows": report.signal_rows(s, ARMS)} for s in safety["signals"]],
    })


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.export_get(request.user, pk)
    path = services.export_download(actor=request.user, job=job, request=request)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=job.file_name, content_type="application/zip")
    response["X-Package-SHA256"] = job.sha256
    return response


class CutForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Label"), max_length=200,
                            help_text=gettext_lazy("For example “DSMB interim 1”."))
    cutoff_at = EntryDateTimeField(label=gettext_lazy("Cut-off (date and time)"))
    closed = forms.BooleanField(label=gettext_lazy("Closed (unblinded)"), required=False,
                                help_text=gettext_lazy("For the DSMB's closed report: only the statistician and the DSMB open it."))


def _cuts_page(request: HttpRequest, form: CutForm, *, status: int = 200, error: str = "") -> HttpResponse:
    roles = user_roles(request.user)
    cuts = list(selectors.cuts_for(request.user).select_related("created_by").order_by("-pk")[:100])
    return render(request, "exports/cuts.html", {
        "cuts": cuts, "form": form, "error": error,
        "may_create": bool(roles & selectors.CUT_CREATE_ROLES)}, status=status)


@login_required
def cut_list(request: HttpRequest) -> HttpResponse:
    """The data cuts for interim reviews: the statistician makes one (a label, a cut-off and
    whether it is closed) and requests its package here; the DSMB reads them."""
    selectors.require_cut_role(request.user)
    if request.method != "POST":
        return _cuts_page(request, CutForm())
    if request.POST.get("action") == "package":
        try:
            cut = selectors.cut_get(request.user, request.POST.get("cut", ""))
            job = services.export_request(actor=request.user, blinded=not cut.closed, cut=cut)
        except DomainError as exc:
            if exc.status in (401, 403, 404):
                raise
            return _cuts_page(request, CutForm(), status=exc.status, error=exc.message)
        messages.success(request, _("Export %(pk)s of the cut queued; its page shows the progress.") % {"pk": job.pk})
        return redirect("exports:detail", pk=job.pk)
    form = CutForm(request.POST)
    if not form.is_valid():
        return _cuts_page(request, form, status=400)
    try:
        cut = services.data_cut_create(actor=request.user, label=form.cleaned_data["label"],
                                       cutoff_at=form.cleaned_data["cutoff_at"], closed=form.cleaned_data["closed"])
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        for field, message in (exc.fields or {}).items():
            if field in form.fields:
                form.add_error(field, message)
        return _cuts_page(request, form, status=exc.status, error=exc.message)
    messages.success(request, _("Data cut “%(label)s” made: %(n)d participants.") % {"label": cut.label,
                                                                                    "n": len(cut.participant_ids)})
    return redirect("exports:cuts")

