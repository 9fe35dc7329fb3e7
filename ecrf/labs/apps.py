from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabsConfig(AppConfig):
    name = "ecrf.labs"
    label = "labs"
    verbose_name = _("Laboratory")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.labs import specs  # noqa: F401  (registers the forms)
