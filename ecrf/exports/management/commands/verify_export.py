"""``python manage.py verify_export PACKAGE``: every file against the manifest, the manifest
against the database; names each file that differs and exits non-zero on any difference."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecrf.exports.verify import package_verify


class Command(BaseCommand):
    help = "Verify an export package: each file against manifest.json, manifest.json against the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path, help="the package's .zip file")

    def handle(self, *args: object, package: Path, **options: object) -> None:
        verdict = package_verify(package)
        if not verdict.ok:
            for problem in verdict.problems:
                self.stderr.write(problem)
            raise CommandError(f"{package}: {len(verdict.problems)} problem(s); the package does not match its record.")
        self.stdout.write(f"{package}: {verdict.files} files match the manifest; the manifest (SHA-256 "
                          f"{verdict.manifest_sha256}) matches the database.")
