"""Participants in the main menu: the roles that work with participant records."""

from django.utils.translation import gettext_lazy as _

from ecrf.accounts.roles import PARTICIPANT_LIST_ROLES
from ecrf.core.navigation import NavEntry, for_roles, register_entry

register_entry(NavEntry("crf.participants", _("Participants"), "crf:participant-list",
                        visible=for_roles(PARTICIPANT_LIST_ROLES), order=20))
