"""Blinding by construction (ARCHITECTURE.md): the import-linter contracts hold, no blinded model has a
foreign key to the unblinded tables, and blinded models offer no reverse path to them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[1]
UNBLINDED_APPS = {"randomization", "pharmacy"}


def test_import_linter_contract_is_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        # CI (ECRF_REQUIRE_SERVICES=1) must check the contracts, never skip them.
        message = "import-linter is not installed (requirements-dev.txt)"
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    result = subprocess.run([exe, "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_blinded_model_refers_to_unblinded_tables():
    offenders = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in UNBLINDED_APPS:
            continue
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            if related is not None and related._meta.app_label in UNBLINDED_APPS and field.concrete:
                offenders.append(f"{model._meta.label}.{field.name} -> {related._meta.label}")
    assert not offenders


def test_blinded_models_have_no_reverse_accessor_to_unblinded_tables():
    for model in apps.get_models():
        if model._meta.app_label in UNBLINDED_APPS:
            continue
        reverse = [f for f in model._meta.get_fields() if f.auto_created and not f.concrete
                   and f.related_model is not None and f.related_model._meta.app_label in UNBLINDED_APPS]
        assert not reverse, f"{model._meta.label} can reach {[f.related_model._meta.label for f in reverse]}"
