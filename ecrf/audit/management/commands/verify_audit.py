from django.core.management.base import BaseCommand, CommandError

from ecrf.audit.services import audit_verify


class Command(BaseCommand):
    help = ("Verify the audit trail: every keyed hash chain, every chain head's seal, and every live audited "
            "row against its latest history row; report the first problem. --incremental starts from the "
            "last verified link (only what was written since); the default full run re-reads everything.")

    def add_arguments(self, parser):
        parser.add_argument("--incremental", action="store_true",
                            help="Verify only the links and rows written since the last successful verification.")
        parser.add_argument("--batch-size", type=int, default=2000,
                            help="Rows read per query (memory is bounded by this, not by the table's size).")
        parser.add_argument("--no-record", action="store_true",
                            help="Do not record the result (and its checkpoint) in the event log.")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = audit_verify(incremental=options["incremental"], batch_size=options["batch_size"],
                              record=not options["no_record"])
        mode = "incremental, since the last verified link" if report.incremental else "full"
        if report.ok:
            self.stdout.write(self.style.SUCCESS(
                f"Audit chain intact: {report.rows} rows in {report.tables} tables ({mode}; "
                f"{report.chain_rows} links, {report.live_rows} live rows)."))
            return
        raise CommandError(f"Audit chain broken at {report.broken} (after checking {report.rows} rows, {mode}).")
