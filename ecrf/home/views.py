from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ecrf.core.home import tasks_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home/home.html", {"tasks": tasks_for(request.user)})
