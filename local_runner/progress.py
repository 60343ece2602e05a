"""The lines a local run prints while it runs (--progress): its settings once, then its progress.

The settings line shows each configured timing next to the scaled one the run uses; the progress line
is a bar of the conversations landed with the events, pipe and work-queue figures behind it.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from genesys_bridge import contracts
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS
from local_runner.async_invoke import AsyncInvoker
from local_runner.aws import LocalResources, TimeScale
from local_runner.aws_hooks import AwsRecorder
from local_runner.options import RunOptions
from local_runner.pipe import StreamPipe


class ProgressParts(Protocol):
    """What the progress lines read of a running run (local_runner.harness.Harness)."""

    options: RunOptions
    config: Any  # stacks.config.EnvironmentConfig
    scale: TimeScale
    resources: LocalResources
    simulator: Any
    env_processor: dict[str, str]
    max_age_s: float
    processor_timeout_s: float
    recorder: AwsRecorder
    invoker: AsyncInvoker
    pipe: StreamPipe


def settings_line(run: ProgressParts) -> str:
    config, scale, resources = run.config, run.scale, run.resources
    genesys = (
        f"simulator (faults: {run.options.faults})"
        if run.simulator
        else run.options.genesys_base_url or run.options.genesys_region
    )
    return (
        f"local run: {config.stack_name} on moto, Genesys {genesys}; time scale {scale.factor:g} "
        f"(config seconds x {scale.factor:g} = local seconds: settle {config.settle_delay_seconds}s -> "
        f"{resources.delivery_delay_s}s, batching window {config.processor_batching_window_seconds}s -> "
        f"{scale.seconds(config.processor_batching_window_seconds):g}s, not-ready backoff "
        f"{NOT_READY_RETRY_BASE_SECONDS}s -> "
        f"{run.env_processor[contracts.NOT_READY_RETRY_BASE_SECONDS]}s, max age "
        f"{config.not_ready_max_age_minutes}min -> {run.max_age_s:g}s, settle max "
        f"{config.settle_max_minutes}min -> "
        f"{float(run.env_processor[contracts.SETTLE_MAX_MINUTES]) * 60:g}s, visibility "
        f"{config.work_queue_visibility_timeout_seconds}s -> {resources.visibility_timeout_s}s, "
        f"processor timeout {config.processor_timeout_seconds}s -> {run.processor_timeout_s:g}s)"
    )


def progress_line(run: ProgressParts, started: float, expected: int, depth: dict[str, int]) -> str:
    landed = len(run.recorder.landed_at)
    width = 24
    filled = int(width * landed / expected) if expected else width
    bar = "#" * filled + "-" * (width - filled)
    return (
        f"[{bar}] landed {landed}/{expected}  events {run.invoker.tally.deliveries}/"
        f"{len(run.invoker.events)}  pipe {run.pipe.tally.forwarded}  "
        f"queue {depth['visible']}+{depth['in_flight']}+{depth['delayed']}  "
        f"{time.monotonic() - started:5.1f}s"
    )
