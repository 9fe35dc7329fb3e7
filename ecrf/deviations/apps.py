from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeviationsConfig(AppConfig):
    name = "ecrf.deviations"
    label = "deviations"
    verbose_name = _("Protocol deviations")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.deviations import specs  # noqa: F401  (registers the form)
