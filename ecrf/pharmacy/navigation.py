"""The pharmacy worklist in the main menu: the site's pharmacists."""

from django.utils.translation import gettext_lazy as _

from ecrf.accounts.roles import Role
from ecrf.core.navigation import NavEntry, for_roles, register_entry

register_entry(NavEntry("pharmacy.worklist", _("Pharmacy worklist"), "pharmacy:worklist",
                        visible=for_roles({Role.PHARMACIST}), order=35))
