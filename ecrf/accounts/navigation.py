"""The Django admin in the main menu: staff users (administrators, and data managers for
corrections with a reason)."""

from django.utils.translation import gettext_lazy as _

from ecrf.core.navigation import NavEntry, register_entry

register_entry(NavEntry("accounts.admin", _("Administration"), "admin:index",
                        visible=lambda user: bool(user.is_staff and user.is_active), order=990))
