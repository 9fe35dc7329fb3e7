from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    name = "ecrf.pharmacy"
    label = "pharmacy"
    verbose_name = _("Pharmacy")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.pharmacy import home  # noqa: F401  (home task)
