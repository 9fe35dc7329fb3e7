from django.core.management.base import BaseCommand, CommandError

from ecrf.accounts.roles import UNBLINDED_ROLES, Role
from ecrf.accounts.services import user_create
from ecrf.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a user with a role (and sites for site roles); --token prints an API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", required=True, help=f"One of: {', '.join(Role.values)}")
        parser.add_argument("--site", action="append", default=[], help="Site code (repeat for several)")
        parser.add_argument("--password", help="Password (default: no password; API token only)")
        parser.add_argument("--email", default="")
        parser.add_argument("--token", action="store_true", help="Create and print an API token")
        parser.add_argument("--lead", action="store_true", help="Lead safety officer")
        parser.add_argument("--reason", default="", help="Why the user needs an unblinded role (required for those)")

    def handle(self, *args, **opts):
        try:
            user, token = user_create(
                actor=None, username=opts["username"], roles=opts["role"], site_codes=opts["site"],
                password=opts["password"], email=opts["email"], with_token=opts["token"],
                is_lead_safety_officer=opts["lead"], request_unblinded=True, reason=opts["reason"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        # Separation of duties: unblinded roles wait for an administrator other than the grantee.
        pending = sorted(set(opts["role"]) & UNBLINDED_ROLES)
        given = [r for r in dict.fromkeys(opts["role"]) if r not in UNBLINDED_ROLES]
        self.stdout.write(f"Created {user.username} ({', '.join(given) or 'no role yet'}).")
        if pending:
            self.stdout.write(f"Pending approval by an administrator (not {user.username}) under Accounts > "
                              f"Role grants: {', '.join(pending)}.")
        if token:
            self.stdout.write(f"Token: {token}")
