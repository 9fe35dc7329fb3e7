"""Queries in the main menu: the data team's inbox, or the site staff's list to answer."""

from django.utils.translation import gettext_lazy as _

from ecrf.core.navigation import NavEntry, for_roles, register_entry
from ecrf.queries.selectors import DATA_TEAM_ROLES, SITE_ANSWER_ROLES

register_entry(NavEntry("queries.inbox", _("Queries"), "queries:inbox", visible=for_roles(DATA_TEAM_ROLES), order=60))
# A user holding both a data-team and a site role sees the inbox only (one "Queries" entry).
register_entry(NavEntry("queries.site-list", _("Queries"), "queries:site-list",
                        visible=lambda user: for_roles(SITE_ANSWER_ROLES)(user) and not for_roles(DATA_TEAM_ROLES)(user),
                        order=60))
