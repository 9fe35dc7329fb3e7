"""Demo study, sites and one user per role (site roles at every site)."""

from __future__ import annotations

from ecrf.accounts.models import User
from ecrf.accounts.roles import SITE_SCOPED_ROLES, Role
from ecrf.accounts.services import ensure_role_groups, user_create
from ecrf.core.synthetic import SyntheticContext, register_step
from ecrf.study.models import Site, Study

DEMO_SITES = (
    ("ATH", "Attikon University Hospital (demo)", "GR", "Europe/Athens"),
    ("NIJ", "Radboud UMC (demo)", "NL", "Europe/Amsterdam"),
    ("MIL", "Ospedale San Raffaele (demo)", "IT", "Europe/Rome"),
)
DEMO_PASSWORD = "Demo-Password-2026!"
SECOND_SAFETY_OFFICER = "safety_officer_2"


def generate(ctx: SyntheticContext) -> None:
    ensure_role_groups()
    Study.objects.get_or_create(
        code="IMMUNOSEP-DEMO",
        defaults={"title": "Precision immunotherapy in sepsis (demo of an ImmunoSep-style trial)",
                  "time_zone": "Europe/Athens", "safety_contact_email": "safety-contact@example.org"},
    )
    for code, name, country, tz in DEMO_SITES:
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": name, "country": country, "time_zone": tz})
        ctx.sites.append(site)
    for role in Role.values:
        if role in SITE_SCOPED_ROLES:
            for site in ctx.sites:
                username = f"{role}_{site.code.lower()}"
                user = User.objects.filter(username=username).first() or user_create(
                    actor=None, username=username, roles=[role], site_codes=[site.code], password=DEMO_PASSWORD,
                    email=f"{username}@example.org", first_name=role.replace("_", " ").title(), last_name=site.code)[0]
                ctx.site_users[(site.code, role)] = user
                ctx.users.setdefault(role, user)
        else:
            username = role
            user = User.objects.filter(username=username).first() or user_create(
                actor=None, username=username, roles=[role], password=DEMO_PASSWORD, email=f"{username}@example.org",
                first_name=role.replace("_", " ").title(), is_lead_safety_officer=(role == Role.SAFETY_OFFICER))[0]
            ctx.users[role] = user
    # A second safety officer: an adjudication needs two independent reviewers.
    second = User.objects.filter(username=SECOND_SAFETY_OFFICER).first() or user_create(
        actor=None, username=SECOND_SAFETY_OFFICER, roles=[Role.SAFETY_OFFICER], password=DEMO_PASSWORD,
        email=f"{SECOND_SAFETY_OFFICER}@example.org", first_name="Second", last_name="Safety Officer")[0]
    ctx.data["second_safety_officer"] = second
    accounts = {u.pk for u in (*ctx.users.values(), *ctx.site_users.values(), second)}
    ctx.say(f"{len(ctx.sites)} sites; {len(accounts)} user accounts.")


register_step(generate, order=10)
