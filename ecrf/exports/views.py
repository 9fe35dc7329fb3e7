"""Export pages: the packages this role may see, each with its progress (a ``<progress>`` bar; the
page reloads itself through the ``Refresh`` header while a package is being written, so no
JavaScript is needed), a button to request one, and the download. Thin over the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ecrf.accounts.roles import user_roles
from ecrf.core.errors import DomainError
from ecrf.exports import selectors, services, unblinded
from ecrf.exports.models import ACTIVE_STATUSES, ExportJob
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
        "jobs": jobs, "lock": lock, "error": error,
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
    return _refreshing(render(request, "exports/detail.html", {"job": job}), [job])


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.export_get(request.user, pk)
    path = services.export_download(actor=request.user, job=job, request=request)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=job.file_name, content_type="application/zip")
    response["X-Package-SHA256"] = job.sha256
    return response
