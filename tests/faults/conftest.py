"""A stack of its own for the fault drills: they stop and start servers, so they never touch
the stack the rest of the suite (or a developer) uses. Ports 27xxx (ORDERREPO_DRILL_*), the
API processes on the engine port + 200. Each test has its own index and topic prefix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos import stack_control
from local_stack import stack
from settings import Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="package")  # one stack for the drill and the soak, stopped once they are done
def drill_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("drill-stack")
    settings = stack_control.drill_settings(home)
    try:
        stack_control.start(settings)
        yield home
    finally:  # also when one server started and the other did not
        stack.down(settings, wipe=True, report=lambda line: None)


@pytest.fixture
def drill(drill_home: Path) -> Settings:
    return stack_control.drill_settings(drill_home, prefix=f"d{uuid.uuid4().hex[:8]}")
