from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import BinaryIO

import io
import pytest

from ecrf.analysis import package
from tests.analysis.world import World, world_in_transaction


class MemorySink:
    """A package sink that keeps each file's bytes (the ``PackageSink`` protocol)."""

    def __init__(self) -> None:
        self.files: OrderedDict[str, bytes] = OrderedDict()

    @contextlib.contextmanager
    def open(self, path: str) -> Iterator[BinaryIO]:
        if path in self.files:
            raise AssertionError(f"{path} written twice")
        buffer = io.BytesIO()
        yield buffer
        self.files[path] = buffer.getvalue()


def write_package(ctx, *, analysis: bool | None = None) -> MemorySink:  # noqa: ANN001
    """The analysis app's three sections as the export job calls them (analysis: unblinded only)."""
    package._built.cache_clear()
    sink = MemorySink()
    package.write_sdtm(ctx, sink)
    package.write_adam(ctx, sink)
    if analysis if analysis is not None else not ctx.blinded:
        package.write_analysis(ctx, sink)
    return sink


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with django_db_blocker.unblock(), world_in_transaction() as w:
        yield w
