"""``specs.py`` files only declare forms; the rules live in pure, Django-free modules.

The rule checked on every ``specs.py`` under ``ecrf/`` and ``safety/`` (ARCHITECTURE.md "Inside
an app"):

1. It defines no function, class or lambda, anywhere. A spec's ``validate``, ``derive`` and
   ``representation`` hooks are references (``hooks.validate_death``) to functions defined in
   the app's hook module (``hooks.py``, or ``derivation.py`` for sofa and safety), which read the
   form and the database and call the app's pure rules (``rules.py``, ``eligibility.py``,
   ``scoring.py``). A definition in a spec, however small, is where a rule starts to hide.
2. Its module-level statements are only the docstring, imports, assignments (tuples of field
   names, which may be built by a comprehension, or ``X = register(FormSpec(...))``) and bare
   ``register(...)`` calls. No ``if``, ``for``, ``while``, ``try``, ``with``, ``match`` or other
   statement: a declaration does not decide anything.

And the pure rule modules import no Django, directly or through what they import: each is
imported in a fresh interpreter in which importing ``django`` (or DRF, Celery) fails.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(p for base in ("ecrf", "safety") for p in (ROOT / base).rglob("specs.py"))

PURE_MODULES = (
    "ecrf.screening.eligibility",
    "ecrf.screening.rules",
    "ecrf.dosing.rules",
    "ecrf.labs.rules",
    "ecrf.labs.units",
    "ecrf.medications.rules",
    "ecrf.outcomes.rules",
    "ecrf.deviations.rules",
    "ecrf.sofa.scoring",
)

_ALLOWED_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)


def violations(source: str) -> list[str]:
    """What in a ``specs.py`` source is more than a declaration, as "line: what" strings."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            name = getattr(node, "name", "lambda")
            found.append(f"{node.lineno}: defines {type(node).__name__} {name}")
    for index, node in enumerate(tree.body):
        if isinstance(node, _ALLOWED_STATEMENTS):
            continue
        if isinstance(node, ast.Expr):
            if index == 0 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                continue  # the module docstring
            call = node.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "register":
                continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # already reported above
        found.append(f"{node.lineno}: module-level {type(node).__name__} statement")
    return found


def test_every_app_with_forms_has_its_specs_checked() -> None:
    names = {p.parent.name for p in SPECS}
    assert {"screening", "dosing", "labs", "medications", "outcomes", "deviations", "sofa", "safety"} <= names


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_specs_only_declare(path: Path) -> None:
    assert violations(path.read_text()) == [], f"{path.relative_to(ROOT)} holds logic; move it to the app's hooks/rules"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"""Doc."""\nfrom x import register\nA = ("a",)\nB = register(spec)\nregister(other)\n', []),
        ("F = tuple(f for f in ('a', 'b'))\n", []),
        ("def _validate(form):\n    return {}\n", ["1: defines FunctionDef _validate"]),
        ("S = register(spec(validate=lambda form: {}))\n", ["1: defines Lambda lambda"]),
        ("class Hooks:\n    pass\n", ["1: defines ClassDef Hooks"]),
        ("if DEBUG:\n    A = 1\n", ["1: module-level If statement"]),
        ("for name in NAMES:\n    register(name)\n", ["1: module-level For statement"]),
        ("print('side effect')\n", ["1: module-level Expr statement"]),
    ],
)
def test_the_check_itself(source: str, expected: list[str]) -> None:
    assert violations(source) == expected


_NO_DJANGO = """
import importlib, importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"django", "rest_framework", "celery"}:
            raise ImportError(f"pure module imported {name}")
        return None

sys.meta_path.insert(0, Refuse())
# ``ecrf/__init__.py`` loads the Celery app for Django; a pure module must not need it, so the
# package is entered without running it.
import types
for package in ("ecrf",):
    module = types.ModuleType(package)
    module.__path__ = [str(__import__("pathlib").Path.cwd() / package)]
    sys.modules[package] = module
importlib.import_module(sys.argv[1])
"""


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_rule_modules_import_no_django(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", _NO_DJANGO, module], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_purity_check_catches_a_django_import() -> None:
    result = subprocess.run([sys.executable, "-c", _NO_DJANGO, "ecrf.screening.hooks"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "pure module imported django" in result.stderr
