"""One model run from the command line's inputs: read the environment, quotas, measurements and profile,
simulate, advise, price, plot. Every input problem becomes an InputError naming the value."""

from __future__ import annotations

from pathlib import Path

from capacity.advice import limits
from capacity.costs import day_cost
from capacity.deployment import aws_pipeline, with_overrides
from capacity.measurements import MeasurementError, load_measurements
from capacity.model import simulate
from capacity.profiles import ProfileError, load_profile_file, named_profile
from capacity.quotas import QuotaError, load_quotas
from capacity.report import Report, warnings_for
from stacks.config import ConfigError, load_environment_config


class InputError(ValueError):
    """Bad input (environment, setting, profile, quota or measurement file): the message says which."""


def model(
    *,
    environment: str,
    peak_per_hour: float | None,
    events_per_conversation: float,
    profile_name: str,
    profile_file: Path | None,
    not_ready_share: float,
    region: str | None,
    overrides: list[str],
    step: float,
    prices: Path,
    quotas_path: Path,
    measurements_path: Path,
    plot_path: Path | None,
) -> Report:
    try:
        config = with_overrides(load_environment_config(environment), overrides)
        quotas = load_quotas(quotas_path)
        measurements = load_measurements(measurements_path)
        if profile_file is not None:
            profile = load_profile_file(profile_file, peak_per_hour)
        else:
            assert peak_per_hour is not None  # the command line requires one of the two
            profile = named_profile(profile_name, peak_per_hour)
    except (ConfigError, QuotaError, MeasurementError, ProfileError, OSError) as error:
        raise InputError(str(error)) from None
    try:
        from benchmarks.cost import load_prices

        price_region = load_prices(prices).region
    except (OSError, KeyError, ValueError) as error:
        raise InputError(f"price file {prices}: {error!r}") from None
    region = region or config.region or price_region
    pipeline = aws_pipeline(
        config,
        quotas,
        measurements,
        region=region,
        events_per_conversation=events_per_conversation,
        not_ready_share=not_ready_share,
    )
    per_second = [value / 60 for value in profile.per_minute]
    simulation = simulate(pipeline, per_second, dt=step)
    peak_per_s = max(per_second)
    cost, breakdown, price_table = day_cost(
        simulation, prices, config.ingest_memory_mb, config.processor_memory_mb
    )
    share = simulation.totals.conversations / 1_000_000
    report = Report(
        environment=environment,
        profile=profile.name,
        region=region,
        peak_per_hour=profile.peak_per_hour if profile_file is not None else (peak_per_hour or 0.0),
        events_per_conversation=events_per_conversation,
        not_ready_share=not_ready_share,
        config=config,
        overrides=list(overrides),
        simulation=simulation,
        limits=limits(pipeline, config, quotas, peak_per_s, region),
        cost_usd=cost,
        cost_lines={line.item: line.usd_per_million * share for line in breakdown.lines},
        prices_note=f"AWS list prices, {price_table.region}, {prices.name}",
        quotas=quotas,
        measurements_note=(
            f"ingest {measurements.ingest_cpu_seconds_per_event * 1e6:.0f} us CPU per event, processor"
            f" {measurements.processor_cpu_seconds_per_batch * 1000:.1f} ms per batch +"
            f" {measurements.processor_cpu_seconds_per_conversation * 1000:.2f} ms per conversation on"
            f" {measurements.machine.removeprefix('machine: ')} ({measurements_path.name},"
            f" {measurements.measured_at}, commit {measurements.commit})"
        ),
    )
    report.warnings = warnings_for(report)
    if plot_path is not None:
        from capacity.plot import plot

        title = (
            f"{environment}, {profile.name}, peak {report.peak_per_hour:,.0f} conversations/h"
            f" ({events_per_conversation:g} events each); bottleneck: {simulation.bottleneck or 'none'}"
        )
        try:
            report.plot_path = str(plot(simulation, plot_path, title))
        except (OSError, ValueError) as error:  # ValueError: matplotlib knows no such image format
            reason = getattr(error, "strerror", None) or error
            raise InputError(f"--plot {plot_path}: cannot write ({reason})") from None
    return report
