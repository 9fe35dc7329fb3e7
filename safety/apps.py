from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    label = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the AE form, its listeners, home tasks)
        from safety import home, listeners, panels, specs  # noqa: F401

