from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "ecrf.review"
    label = "review"
    verbose_name = _("Review")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.review import blockers, overlays  # noqa: F401  (study-lock gate; casebook overlays, field notes)
