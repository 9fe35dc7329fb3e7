from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RandomizationConfig(AppConfig):
    name = "ecrf.randomization"
    label = "randomization"
    verbose_name = _("Randomization")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.randomization import home, panels  # noqa: F401  (participant panel, home tasks)
