"""Figure 3 reads `python -X importtime`: the module's cumulative time, and its packages' own times."""

from __future__ import annotations

import pytest

from benchmarks.imports import ImportRun, heaviest, parse_importtime

# Start-up (site and what it imports), then `import handler`, which imports two packages.
REPORT = """import time: self [us] | cumulative | imported package
import time:       188 |        188 |   _distutils_hack
import time:      1082 |       1270 | site
import time:       150 |        150 |       pydantic_core._pydantic_core
import time:       300 |        450 |     pydantic_core
import time:      2000 |       2450 |   pydantic
import time:       400 |        400 |   genesys_bridge.contracts
import time:       100 |        100 |   genesys_bridge
import time:        50 |       3000 | handler
"""


def test_the_module_is_its_cumulative_time_and_its_packages_their_own_time() -> None:
    run = parse_importtime(REPORT, "handler")
    assert run.seconds == pytest.approx(0.003)
    # start-up's site and _distutils_hack are not the handler's
    assert run.own_seconds == pytest.approx(
        {"pydantic_core": 0.00045, "pydantic": 0.002, "genesys_bridge": 0.0005, "handler": 0.00005}
    )


def test_a_module_missing_from_the_report_is_an_error_not_a_zero() -> None:
    with pytest.raises(RuntimeError, match="import boto3: not in the -X importtime report"):
        parse_importtime(REPORT, "boto3")


def test_the_heaviest_packages_are_those_of_the_median_sample() -> None:
    samples = [
        ImportRun(0.9, {"slow": 0.9}),
        ImportRun(0.3, {"pydantic": 0.2, "botocore": 0.1}),
        ImportRun(0.1, {"fast": 0.1}),
    ]
    assert heaviest(samples, top=1) == [("pydantic", 0.2)]
    assert heaviest("import failed") == []
