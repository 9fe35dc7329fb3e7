from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    name = "ecrf.dosing"
    label = "dosing"
    verbose_name = _("Dosing")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.dosing import listeners, specs  # noqa: F401  (registers the forms and listeners)
