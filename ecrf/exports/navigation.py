"""Locked export packages and data cuts in the main menu."""

from django.utils.translation import gettext_lazy as _

from ecrf.core.navigation import NavEntry, for_roles, register_entry
from ecrf.exports.selectors import EXPORT_ROLES

register_entry(NavEntry("exports.list", _("Exports"), "exports:list", visible=for_roles(EXPORT_ROLES), order=80))
