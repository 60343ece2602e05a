from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from genesys_bridge import runtime
from tests.unit.domain.builders import Aws, create_resources


@pytest.fixture(autouse=True)
def _fresh_runtime() -> Iterator[None]:
    # Each test gets its own moto world, so no client, setting or secret may survive from the last one.
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield create_resources()
