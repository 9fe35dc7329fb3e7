"""Every change of an audited row writes its history: no ``QuerySet.update()`` (nor
``bulk_update``) on an audited model's rows anywhere in the application code (ecrf/ and safety/;
ecrf/audit itself writes the history). An update that touches only fields the model's history
leaves out by design (e.g. the login counters of accounts) changes nothing audited and passes.

Audited models are those django-simple-history tracks (``ecrf.audit.history.audited_history``).
Calls are found in the syntax tree: ``<Model>.objects....update(...)`` and
``<row>.<related accessor>....update(...)`` where the accessor leads to an audited model.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "ecrf", ROOT / "safety"]
SKIPPED = [ROOT / "ecrf" / "audit"]
WRITES = {"update", "bulk_update"}
# Updates whose fields the scan cannot read (``**kwargs``), checked by hand: the file, the model,
# and the only fields those calls write, which must stay out of that model's history.
UNRESOLVED_REVIEWED = {("ecrf/accounts/services.py", "User"): {"failed_login_count", "locked_until"}}


def _audited() -> dict[str, type]:
    return {m.__name__: m for m in apps.get_models() if getattr(m._meta, "simple_history_manager_attribute", None)}


def _accessors(audited: dict[str, type]) -> dict[str, type]:
    """Related-manager names (``ae.clocks``) that lead to an audited model."""
    names: dict[str, type] = {}
    for model in apps.get_models():
        for rel in model._meta.related_objects:
            if rel.related_model.__name__ in audited and rel.get_accessor_name():
                names[rel.get_accessor_name()] = rel.related_model
    return names


def _chain(node: ast.AST) -> list[str]:
    """The names along a call chain, from its base: ``Clock.objects.filter(x).update`` ->
    ["Clock", "objects", "filter"]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _untracked(model: type) -> set[str]:
    tracked = {f.attname for f in model.history.model.tracked_fields} | {f.name for f in model.history.model.tracked_fields}
    return {f.name for f in model._meta.concrete_fields} - tracked


def offending_calls(source: str, audited: dict[str, type], accessors: dict[str, type],
                    path: str = "") -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES):
            continue
        chain = _chain(node.func.value)
        model = None
        if len(chain) >= 2 and chain[0] in audited and chain[1] in ("objects", "_default_manager", "all_objects"):
            model = audited[chain[0]]
        else:
            model = next((accessors[name] for name in chain[1:] if name in accessors), None)
        if model is None:
            continue
        fields = {k.arg for k in node.keywords if k.arg}
        unresolved = any(k.arg is None for k in node.keywords)
        if node.func.attr == "update" and unresolved and (path, model.__name__) in UNRESOLVED_REVIEWED:
            fields |= UNRESOLVED_REVIEWED[(path, model.__name__)]
            unresolved = False
        if node.func.attr == "update" and fields and not unresolved and fields <= _untracked(model):
            continue  # only fields the history leaves out by design
        found.append((node.lineno, f"{'.'.join(chain)}.{node.func.attr}() on {model.__name__}"))
    return found


def _sources() -> list[Path]:
    return [p for base in SCANNED for p in sorted(base.rglob("*.py")) if not any(s in p.parents for s in SKIPPED)]


def test_no_queryset_update_on_audited_models_in_the_application_code():
    audited, accessors = _audited(), _accessors(_audited())
    assert {"Clock", "AdverseEvent", "User", "PvClock"} <= audited.keys()  # the registry is read, not assumed
    assert "Notification" not in audited  # the outbox is not audited: its delivery state may be updated
    offending = [f"{p.relative_to(ROOT)}:{line}: {what}" for p in _sources()
                 for line, what in offending_calls(p.read_text(), audited, accessors, str(p.relative_to(ROOT)))]
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize(("source", "flagged"), [
    ("Clock.objects.filter(pk__in=ids).update(overdue_notified_at=now)", True),
    ("ae.clocks.filter(kind='x').update(met_at=now)", True),
    ("AdverseEvent.objects.bulk_update(rows, ['grade'])", True),
    ("User.objects.filter(pk=1).update(failed_login_count=0, locked_until=None)", False),  # not in the history
    ("User.objects.filter(pk=1).update(email='x@example.org')", True),
    ("Notification.objects.filter(pk=1).update(read_at=now)", False),
    ("errors.update(other)", False),
    ("User.objects.filter(pk=1).update(**fields)", True),  # unreadable fields, outside the reviewed file
])
def test_the_scan_recognises_updates_of_audited_rows(source, flagged, db):
    audited = _audited()
    assert bool(offending_calls(source, audited, _accessors(audited))) is flagged
