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

from ecrf.analysis.primary import AnalysisError, primary_analysis, summary_line
from ecrf.analysis.reader import PackageError, read_adam
from ecrf.analysis.report import primary_csv, primary_html
from ecrf.study.models import Study
from ecrf.study.services import current_protocol


class Command(BaseCommand):
    help = "Run the trial's primary analysis on an unblinded export package (zip or folder)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("package")
        parser.add_argument("--out", help="Folder to write primary.json, primary.csv and primary.html into.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            adsl, adsofa = read_adam(options["package"])
        except PackageError as exc:
            raise CommandError(str(exc)) from exc
        study = Study.objects.current()
        codes = {r["STUDYID"] for r in adsl}
        if study is not None and codes and codes != {study.code}:
            raise CommandError(f"This package is of study {', '.join(sorted(codes))}, not of {study.code}.")
        try:
            result = primary_analysis(adsl, adsofa, threshold=current_protocol().responder_threshold)
        except AnalysisError as exc:
            raise CommandError(str(exc)) from exc
        if options["out"]:
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "primary.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
            (out / "primary.csv").write_text(primary_csv(result))
            (out / "primary.html").write_text(primary_html(result, study_code=next(iter(codes), ""),
                                                           as_of=timezone.now(), package_hash=_sha256(options["package"])))
        self.stdout.write(summary_line(result))


def _sha256(package: str) -> str:
    path = Path(package)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
