from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    label = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        from safety import home, specs  # noqa: F401  (registers the AE form and home tasks)

        # One OpenAPI enum name for the choice sets the IV and SC fields share (settings.py is
        # not this app's to edit; this adds to its ENUM_NAME_OVERRIDES, keeping existing ones).
        from drf_spectacular.settings import spectacular_settings

        overrides = dict(spectacular_settings.ENUM_NAME_OVERRIDES)
        overrides.setdefault("AeActionTakenEnum", "safety.models.ActionTaken")
        overrides.setdefault("AeCausalityEnum", "safety.models.Causality")
        spectacular_settings.ENUM_NAME_OVERRIDES = overrides
