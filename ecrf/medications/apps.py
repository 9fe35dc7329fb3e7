from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MedicationsConfig(AppConfig):
    name = "ecrf.medications"
    label = "medications"
    verbose_name = _("Concomitant medications")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.medications import panels, specs  # noqa: F401  (registers the form and panel)
