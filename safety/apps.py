from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    label = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        from safety import home, listeners, specs  # noqa: F401  (the AE form, its listeners, home tasks)

