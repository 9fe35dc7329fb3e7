from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    name = "ecrf.dosing"
    label = "dosing"
    verbose_name = _("Dosing")
