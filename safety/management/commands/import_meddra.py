"""python manage.py import_meddra DIR: load a licensed MedDRA release (MedAscii folder)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ecrf.core.errors import DomainError
from safety.meddra import DEMO_DIR, meddra_import


class Command(BaseCommand):
    help = "Load a MedDRA release from its ASCII distribution files (or --demo for the demonstration dictionary)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("directory", nargs="?", help="the MedAscii folder of the release")
        parser.add_argument("--demo", action="store_true", help="load the project's demonstration dictionary")

    def handle(self, *args, directory: str | None = None, demo: bool = False, **options) -> None:  # noqa: ANN002, ANN003
        if not directory and not demo:
            raise CommandError("Give the MedAscii folder, or --demo.")
        try:
            release = meddra_import(directory=directory or DEMO_DIR, is_demo=demo)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        counts = ", ".join(f"{k} {v}" for k, v in release.counts.items())
        self.stdout.write(self.style.SUCCESS(f"MedDRA {release.version} ({release.language}) loaded: {counts}."))
