"""URLs: pages from each app's ``urls.py``, API routes from each app's ``api.register``.

Every URL here is covered by the permission-matrix test (tests/test_permission_matrix.py).
"""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from ecrf.core.schema import SchemaView


class Router(DefaultRouter):
    include_root_view = True
    include_format_suffixes = False


def _project_apps() -> list[str]:
    return [cfg.name for cfg in apps.get_app_configs() if cfg.name.startswith("ecrf.") or cfg.name == "safety" or cfg.name.startswith("tests.")]


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


router = Router()
page_patterns = []
for app_name in _project_apps():
    if _has_module(f"{app_name}.api"):
        module = importlib.import_module(f"{app_name}.api")
        if hasattr(module, "register"):
            module.register(router)
    if _has_module(f"{app_name}.urls") and app_name not in ("ecrf.core", "ecrf.home"):
        page_patterns.append(path("", include(f"{app_name}.urls")))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("ecrf.accounts.urls")),
    # The language switch in every page's header (POST; the choice is kept in a cookie).
    path("i18n/language/", require_POST(set_language), name="set_language"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # Swagger UI with its start-up script served as a file (the split view), so no inline script
    # runs; the page's own inline <style> block and Swagger UI's data: icons are allowed here only.
    path("api/docs/", csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
        SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("", include("ecrf.home.urls")),
    path("", include("ecrf.core.urls")),
    *[p for p in page_patterns if "accounts" not in str(p.urlconf_name)],
]

# Errors outside DRF views answer in the API's JSON format on /api/ paths (ecrf.core.api).
handler400 = "ecrf.core.api.handler400"
handler403 = "ecrf.core.api.handler403"
handler404 = "ecrf.core.api.handler404"
handler500 = "ecrf.core.api.handler500"
