"""The OpenAPI document, generated once per process.

drf-spectacular generates the schema on every request, which costs about a second of CPU; the
document depends on the code alone (it is served public to every signed-in user, so it does not
depend on who asks or on any data), so a signed-in user could otherwise make the server spend a
second per request at will. It is generated on the first request of each API version and
language and kept for the life of the process (a deployment restarts the process with the code).
"""

from __future__ import annotations

import threading
from typing import Any

from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

_documents: dict[tuple[Any, str], dict] = {}
_lock = threading.Lock()


class SchemaView(SpectacularAPIView):
    def _get_schema_response(self, request: Request) -> Response:
        if not self.serve_public:  # filtered by the user's permissions: not the same for everyone
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language() or "")
        with _lock:
            document = _documents.get(key)
            if document is None:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                document = _documents[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=document,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )


def forget_documents() -> None:
    """Drop the generated documents (tests that change the URL conf or the API)."""
    with _lock:
        _documents.clear()
