"""Allocation lists in the main menu: the unblinded statistician alone."""

from django.utils.translation import gettext_lazy as _

from ecrf.accounts.roles import Role
from ecrf.core.navigation import NavEntry, for_roles, register_entry

register_entry(NavEntry("randomization.lists", _("Allocation lists"), "randomization:lists",
                        visible=for_roles({Role.STATISTICIAN}), order=30))
