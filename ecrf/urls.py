"""URLs: pages from each app's ``urls.py``, API routes from each app's ``api.register``.

Every URL here is covered by the permission-matrix test (tests/test_permission_matrix.py).
"""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter


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
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("ecrf.home.urls")),
    path("", include("ecrf.core.urls")),
    *[p for p in page_patterns if "accounts" not in str(p.urlconf_name)],
]
