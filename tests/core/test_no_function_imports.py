"""Imports sit at module top, where a reader sees what a module depends on (and import-linter's
layers contract reads them); an import inside a function is allowed only where it must be.

The rule, over every module of ``ecrf/`` and ``safety/`` except migrations: an ``import`` or
``from ... import`` inside a function (or method, or nested function) must carry a comment
``# deferred import: <why>`` on its own line or in the comment lines directly above it, naming
the reason: a real import cycle (which module imports this one), the Django app registry not yet
being ready (``AppConfig.ready()`` registrations; modules imported while the registry is
populated), or a layer the import would cross (``.importlinter``). One comment covers the run of
import statements that directly follows it. The reason must not be empty.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "# deferred import:"

# Files whose in-function imports are being moved by other work in progress (their owners fix
# them on their branches); they are checked once that work is merged. Empty this set then.
PENDING: set[str] = set()


def modules() -> list[Path]:
    return sorted(p for base in ("ecrf", "safety") for p in (ROOT / base).rglob("*.py")
                  if "migrations" not in p.relative_to(ROOT).parts)


def _comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line (the text from ``#``)."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            found[tok.start[0]] = tok.string
    return found


def _justified(line: int, comments: dict[int, str], lines: list[str]) -> bool:
    """A ``deferred import:`` comment with a reason on ``line`` or in the comment block above."""
    candidates = [comments.get(line, "")]
    above = line - 1
    while above >= 1 and lines[above - 1].strip().startswith("#"):
        candidates.append(comments.get(above, ""))
        above -= 1
    for comment in candidates:
        start = comment.find(MARK)
        if start >= 0 and comment[start + len(MARK):].strip():
            return True
    return False


def unjustified_imports(source: str) -> list[int]:
    """Line numbers of in-function imports without a ``deferred import:`` reason."""
    tree = ast.parse(source)
    comments = _comments(source)
    lines = source.splitlines()
    bad = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for block in ast.walk(func):
            for field in ("body", "orelse", "finalbody", "handlers"):
                statements = getattr(block, field, None)
                if not isinstance(statements, list):
                    continue
                covered = False
                for statement in statements:
                    if not isinstance(statement, (ast.Import, ast.ImportFrom)):
                        covered = False
                        continue
                    if _justified(statement.lineno, comments, lines):
                        covered = True
                    elif not covered:
                        bad.append(statement.lineno)
    return sorted(set(bad))


def test_the_scope_is_the_whole_code_base() -> None:
    names = {str(p.relative_to(ROOT)) for p in modules()}
    assert {"ecrf/crf/services.py", "safety/services/__init__.py", "ecrf/sofa/services.py"} <= names
    assert not any("/migrations/" in n for n in names)
    assert PENDING <= names, "a PENDING entry names no module: remove it"


@pytest.mark.parametrize("path", [p for p in modules() if str(p.relative_to(ROOT)) not in PENDING],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_inside_a_function_without_its_reason(path: Path) -> None:
    lines = unjustified_imports(path.read_text())
    assert lines == [], (f"{path.relative_to(ROOT)}: imports inside functions at lines {lines}; move them to the "
                         f"module top, or give the reason with '{MARK} <why>'")


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import os\n\ndef f():\n    return os\n", []),
        ("def f():\n    import os\n    return os\n", [2]),
        ("class A:\n    def m(self):\n        from x import y\n        return y\n", [3]),
        ("def f():\n    def g():\n        if True:\n            import os\n", [4]),
        ("def f():\n    # deferred import: x imports this module\n    import x\n    import y\n    z = 1\n    import w\n",
         [6]),
        ("def f():\n    import x  # deferred import: the app registry must be ready\n", []),
        ("def f():\n    # deferred import: a reason that runs\n    # over two lines\n    import x\n", []),
        ("def f():\n    # deferred import:\n    import x\n", [3]),  # no reason given
        ("def f():\n    # a deferred import\n    import x\n", [3]),
        ("def f():\n    try:\n        pass\n    except ImportError:\n        import x\n", [5]),
        ("if True:\n    import os\n", []),  # module level, not in a function
    ],
)
def test_the_check_itself(source: str, bad: list[int]) -> None:
    assert unjustified_imports(source) == bad
