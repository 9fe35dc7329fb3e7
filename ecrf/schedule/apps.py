from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScheduleConfig(AppConfig):
    name = "ecrf.schedule"
    label = "schedule"
    verbose_name = _("Schedule")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.schedule import panels  # noqa: F401  (participant page link)
