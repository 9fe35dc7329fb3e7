from django.core.management.base import BaseCommand, CommandError

from ecrf.audit.integrity import verify_chain


class Command(BaseCommand):
    help = ("Verify the audit trail: every keyed hash chain, every chain head's seal, and every live audited "
            "row against its latest history row; report the first problem.")

    def handle(self, *args, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.rows} rows in {report.tables} tables."))
            return
        raise CommandError(f"Audit chain broken at {report.broken} (after checking {report.rows} rows).")
