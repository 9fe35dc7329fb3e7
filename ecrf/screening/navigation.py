"""The screening log, the screening report and the central lab's import in the main menu."""

from django.utils.translation import gettext_lazy as _

from ecrf.accounts.roles import Role
from ecrf.core.navigation import NavEntry, for_roles, register_entry
from ecrf.screening.selectors import REPORT_ROLES, SCREENING_LOG_ROLES

register_entry(NavEntry("screening.log", _("Screening log"), "screening:log", visible=for_roles(SCREENING_LOG_ROLES), order=10))
register_entry(NavEntry("screening.lab-import", _("Lab import"), "screening:lab-import", visible=for_roles({Role.LAB}), order=12))
register_entry(NavEntry("screening.report", _("Screening report"), "screening:report", visible=for_roles(REPORT_ROLES), order=14))
