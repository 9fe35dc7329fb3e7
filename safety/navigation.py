"""Safety pages in the main menu: adverse events, the clock board, adjudication, potential SUSARs."""

from django.utils.translation import gettext_lazy as _

from ecrf.accounts.roles import Role
from ecrf.core.navigation import NavEntry, for_roles, register_entry
from safety.selectors import AE_SPEC, BOARD_ROLES

register_entry(NavEntry("safety.ae-list", _("Adverse events"), "safety:ae-list", visible=for_roles(AE_SPEC.read_roles), order=50))
register_entry(NavEntry("safety.clock-board", _("Clock board"), "safety:clock-board", visible=for_roles(BOARD_ROLES), order=52))
register_entry(NavEntry("safety.adjudication", _("Adjudication"), "safety:adjudication-queue",
                        visible=for_roles({Role.SAFETY_OFFICER}), order=54))
register_entry(NavEntry("safety.cases", _("Potential SUSARs"), "safety:case-list",
                        visible=for_roles({Role.PHARMACOVIGILANCE}), order=56))
