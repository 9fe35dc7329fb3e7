"""The project's URLs plus two API views that fail on purpose (a throttle that always refuses,
a crash), to show that the 429 and 500 answers are in the JSON error format too."""

from __future__ import annotations

from django.urls import path
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from ecrf.urls import handler400, handler403, handler404, handler500, urlpatterns as project_urlpatterns


class AlwaysThrottled(BaseThrottle):
    def allow_request(self, request, view):  # noqa: ANN001, ANN201
        return False

    def wait(self):  # noqa: ANN201
        return 30


class ThrottledView(APIView):
    throttle_classes = [AlwaysThrottled]

    def get(self, request):  # noqa: ANN001, ANN201
        return Response({})


class CrashingView(APIView):
    def get(self, request):  # noqa: ANN001, ANN201
        raise RuntimeError("participant 7 is in the active arm")  # must never reach the client


urlpatterns = [
    path("api/test-errors/throttled/", ThrottledView.as_view()),
    path("api/test-errors/crash/", CrashingView.as_view()),
    *project_urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
