from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SofaConfig(AppConfig):
    name = "ecrf.sofa"
    label = "sofa"
    verbose_name = _("SOFA")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.sofa import listeners, panels, specs  # noqa: F401  (registers the form, panels, listeners)
