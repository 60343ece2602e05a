from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.unit.domain.builders import Aws, create_resources


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield create_resources()
