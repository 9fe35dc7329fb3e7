from django.core.management.base import BaseCommand, CommandError

from ecrf.audit.integrity import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; report the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.rows} rows in {report.tables} tables."))
            return
        raise CommandError(f"Audit chain broken at {report.broken} (after checking {report.rows} rows).")
