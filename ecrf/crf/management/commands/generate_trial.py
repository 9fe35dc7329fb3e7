import random

from django.core.management.base import BaseCommand, CommandError

from ecrf.core.synthetic import SyntheticContext, run_pipeline


class Command(BaseCommand):
    help = "Build a consistent synthetic trial through the services (demo data, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **opts):
        if opts["participants"] < 0:
            raise CommandError("--participants must be zero or more.")
        ctx = SyntheticContext(participants=opts["participants"], seed=opts["seed"], rng=random.Random(opts["seed"]))
        run_pipeline(ctx, out=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Synthetic trial ready ({opts['participants']} participants requested, seed {opts['seed']})."))
