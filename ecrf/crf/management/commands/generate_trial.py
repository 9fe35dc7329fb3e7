import random
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from ecrf.core.synthetic import SERVICE_SAMPLE, SyntheticContext, run_pipeline
from ecrf.crf.bulk import BulkWriter, protocol_fixed

# From this many participants the generator inserts in bulk unless told otherwise (--no-bulk):
# through the services a participant costs about 1,900 queries (6.6 s on PostgreSQL).
BULK_THRESHOLD = 200


class Command(BaseCommand):
    help = (
        "Build a consistent synthetic trial (demo data, benchmarks). Below "
        f"{BULK_THRESHOLD} participants every entry goes through the services, as real entry does; "
        f"from {BULK_THRESHOLD} (or with --bulk) the volume steps (screening, randomization, dosing, "
        "labs, medications, SOFA, outcomes, deviations) insert in batches, each row through the "
        "same validation and derivation functions as a form save and with its chained history "
        f"row, while preparations, adverse events and review run through the services on "
        f"{SERVICE_SAMPLE} participants. Prints progress and the rows per table."
    )

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--bulk", action="store_true", default=None,
                          help=f"Insert in bulk whatever the size (default from {BULK_THRESHOLD} participants).")
        mode.add_argument("--no-bulk", dest="bulk", action="store_false",
                          help="Enter everything through the services whatever the size.")

    def handle(self, *args, **opts):
        n = opts["participants"]
        if n < 0:
            raise CommandError("--participants must be zero or more.")
        bulk = opts["bulk"] if opts["bulk"] is not None else n >= BULK_THRESHOLD
        started = time.perf_counter()
        generate(participants=n, seed=opts["seed"], bulk=bulk, out=self.stdout)
        elapsed = time.perf_counter() - started
        self.stdout.write("Rows per table:")
        for table, count in table_rows():
            self.stdout.write(f"  {table:<48} {count:>10,}")
        self.stdout.write(self.style.SUCCESS(
            f"Synthetic trial ready ({n} participants requested, seed {opts['seed']}, "
            f"{'bulk' if bulk else 'services'}, {elapsed:.1f} s)."))


def generate(*, participants: int, seed: int, bulk: bool, out=None, skip=()) -> SyntheticContext:
    """Run the pipeline (in bulk or through the services), skipping the steps named in ``skip``."""
    ctx = SyntheticContext(participants=participants, seed=seed, rng=random.Random(seed), bulk=bulk)
    if not bulk:
        return run_pipeline(ctx, out=out, skip=skip)
    ctx.writer = BulkWriter()
    if out is not None:
        ctx.on_progress = Progress(out)
    with protocol_fixed():
        return run_pipeline(ctx, out=out, skip=skip)


def table_rows() -> list[tuple[str, int]]:
    """(table, rows) of every table of the project's apps that has rows."""
    rows = []
    for model in apps.get_models():
        if not model.__module__.startswith(("ecrf.", "safety.")) or model._meta.proxy:
            continue
        count = model._base_manager.count()
        if count:
            rows.append((model._meta.db_table, count))
    return sorted(rows)


class Progress:
    """A bar redrawn in place on a terminal; a line every tenth of the way otherwise (logs, CI)."""

    def __init__(self, out, width: int = 30) -> None:
        self.out = getattr(out, "_out", out)  # the stream under a command's OutputWrapper
        self.width = width
        self.tty = getattr(self.out, "isatty", lambda: False)()
        self.last: dict[str, int] = {}
        self.started = time.perf_counter()

    def __call__(self, label: str, done: int, total: int) -> None:
        total = max(total, 1)
        fraction = min(done / total, 1.0)
        elapsed = time.perf_counter() - self.started
        if self.tty:
            filled = int(fraction * self.width)
            self.out.write(f"\r{label:<14} [{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} {elapsed:6.0f} s"
                           + ("\n" if done >= total else ""))
            self.out.flush()
            return
        tenth = int(fraction * 10)
        if self.last.get(label, -1) < tenth:
            self.last[label] = tenth
            self.out.write(f"{label}: {done:,}/{total:,} ({fraction:.0%}) at {elapsed:.0f} s\n")
            self.out.flush()
