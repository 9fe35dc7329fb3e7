from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "ecrf.screening"
    label = "screening"
    verbose_name = _("Screening")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.screening import home, listeners, panels, specs  # noqa: F401  (forms, listeners, panel, home tasks)
