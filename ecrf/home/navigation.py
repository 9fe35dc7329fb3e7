"""The home page in the main menu: every signed-in user."""

from django.utils.translation import gettext_lazy as _

from ecrf.core.navigation import NavEntry, register_entry

register_entry(NavEntry("home", _("Home"), "home:home", visible=lambda user: True, order=0))
