from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ecrf.notifications.selectors import inbox_for, notification_get
from ecrf.notifications.services import notification_mark_read


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: Any) -> HttpResponse:
    notification_mark_read(actor=request.user, notification=notification_get(request.user, pk))
    return redirect("notifications:inbox")
