"""``python manage.py primary_analysis PACKAGE [--out DIR]``: the primary analysis of an unblinded
package's ADaM. A blinded package, a package of another study, or a file that is not a package
is refused with a clear error; nothing is printed and no file is written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ecrf.analysis.primary import summary_line
from ecrf.analysis.report import primary_csv, primary_html
from ecrf.analysis.services import adam_analysis
from ecrf.core.errors import DomainError


class Command(BaseCommand):
    help = "Run the trial's primary analysis on an unblinded export package (zip or folder)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("package")
        parser.add_argument("--out", help="Folder to write primary.json, primary.csv and primary.html into.")

    def handle(self, *args: Any, **options: Any) -> None:
        # The same rules as the API and the page (ecrf.analysis.services.adam_analysis).
        try:
            result, study_code = adam_analysis(path=Path(options["package"]))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if options["out"]:
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "primary.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
            (out / "primary.csv").write_text(primary_csv(result))
            (out / "primary.html").write_text(primary_html(result, study_code=study_code,
                                                           as_of=timezone.now(), package_hash=_sha256(options["package"])))
        self.stdout.write(summary_line(result))


def _sha256(package: str) -> str:
    path = Path(package)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
