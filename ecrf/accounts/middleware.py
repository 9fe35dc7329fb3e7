from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ecrf.accounts.selectors import display_time_zone


class SiteTimezoneMiddleware:
    """Times are stored in UTC and shown in the viewer's site time zone (or the study's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(display_time_zone(user)))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# The session key holding the epoch second of the session's last renewal.
RENEWED_AT = "_renewed_at"


class SessionRenewalMiddleware:
    """The sliding idle timeout, renewed at most once per ``SESSION_RENEWAL_SECONDS``.

    Django's ``SESSION_SAVE_EVERY_REQUEST`` writes the session on every request, reads
    included. Here a request marks an existing session modified (so that the session
    middleware saves it with a fresh expiry) only when its last renewal is older than the
    interval: the session still ends at most ``SESSION_COOKIE_AGE`` after the last request,
    and at least that less the interval. A request without a session creates none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key is not None and not session.is_empty():
            now = int(time.time())
            renewed = session.get(RENEWED_AT)
            if not isinstance(renewed, int) or now - renewed >= settings.SESSION_RENEWAL_SECONDS:
                session[RENEWED_AT] = now
        return response
