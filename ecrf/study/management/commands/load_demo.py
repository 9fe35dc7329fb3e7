from django.core.management import call_command
from django.core.management.base import BaseCommand

from ecrf.accounts.roles import Role
from ecrf.study.synthetic import DEMO_PASSWORD, SECOND_SAFETY_OFFICER
from ecrf.study.models import Study


class Command(BaseCommand):
    help = "Load the demo study (3 sites, one user per role, synthetic participants) once, and print the credentials."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=24)

    def handle(self, *args, **opts):
        if not Study.objects.exists():
            call_command("generate_trial", participants=opts["participants"], seed=2026, stdout=self.stdout)
        self.stdout.write(f"\nDemo users (password for all: {DEMO_PASSWORD}):")
        for role in Role.values:
            if role in {"investigator", "coordinator", "pharmacist", "monitor"}:
                self.stdout.write(f"  {role:18} {role}_ath  (also {role}_nij, {role}_mil)")
            elif role == Role.SAFETY_OFFICER:
                self.stdout.write(f"  {role:18} {role}  (and {SECOND_SAFETY_OFFICER}, the second adjudication reviewer)")
            else:
                self.stdout.write(f"  {role:18} {role}")
