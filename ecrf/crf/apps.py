from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrfConfig(AppConfig):
    name = "ecrf.crf"
    label = "crf"
    verbose_name = _("Case report forms")
