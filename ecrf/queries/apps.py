from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueriesConfig(AppConfig):
    name = "ecrf.queries"
    label = "queries"
    verbose_name = _("Data queries")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.queries import listeners, providers  # noqa: F401  (the write listener, notes, overlays, gate)
