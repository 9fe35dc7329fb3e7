from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    label = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the AE form, its listeners, home tasks)
        from safety import home, listeners, panels, specs  # noqa: F401
        from ecrf.crf.datasets import declare_unblinded_table
        from safety.models import PvClock, PvSubmission

        # Pharmacovigilance's own tables: a row exists only because a single case was decided a
        # SUSAR, so only in the active arm. (The one unblinded column of a blinded table,
        # ``ExpeditedAssessment.pv_outcome``, is left out of its history, which is what exports read.)
        declare_unblinded_table(PvClock)
        declare_unblinded_table(PvSubmission)

