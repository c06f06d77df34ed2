"""Fixtures of the documentation's tests (see docs_seed)."""

from __future__ import annotations

import pytest
from docs_seed import HERE, SeedMethod, parse_seed


@pytest.fixture(scope="session")
def seed_methods() -> list[SeedMethod]:
    methods = parse_seed(HERE / "seed-docker-container.txt")
    assert len(methods) == 27, [f"{m.cls}.{m.name}" for m in methods]  # the page's count
    return methods
