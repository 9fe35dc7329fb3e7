from __future__ import annotations

from typing import Any

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.crf.panels import Panel, register_panel


@register_panel
def casebook_link(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & CASEBOOK_READ_ROLES:
        return None
    return Panel(title="Casebook", template="schedule/panel.html", context={"participant": participant}, order=20)
