"""Figures 3, 4 and 5: the ones that need no pipeline run (imports, sizes, ingest CPU).

Each function returns table rows and never raises: a figure that cannot be measured becomes a row
that says why, so one missing part never hides the others.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import targets
from benchmarks.imports import ImportTarget, handler_target, heaviest, measure_imports, medians
from benchmarks.ingest import measure_ingest_isolated
from benchmarks.paths import LAMBDAS, SHARED, bench_dir
from benchmarks.sdk import SDK_MODULE, SDK_VERSION, ensure_sdk
from benchmarks.size import Sizes, build_layer, measure
from benchmarks.table import Row, Verdict, fmt_mb, fmt_ms
from stacks.layer_build import LAMBDA_PYTHON_VERSION

HANDLERS = ("ingest", "processor")


@dataclass
class SdkState:
    """The official SDK's install, shared by figures 3 and 4 (installed once per run)."""

    path: Path | None
    error: str = ""


def prepare_sdk() -> SdkState:
    try:
        return SdkState(ensure_sdk())
    except (RuntimeError, OSError) as error:
        return SdkState(None, f"official SDK not installed: {error}")


def _host_layer() -> tuple[Path, str]:
    """The layer built for this machine, so the handlers import exactly what Lambda would put in
    /opt/python (the arm64 build cannot be imported on an x86_64 host). Falls back to shared/."""
    try:
        from stacks.layer_build import build_layer as stack_build_layer

        out = bench_dir() / "layer-host"
        shutil.rmtree(out, ignore_errors=True)
        return stack_build_layer(out, None), "the layer built for this host by stacks.layer_build"
    except Exception as error:  # noqa: BLE001 - any failure here just means "use the sources"
        return SHARED, f"shared/ sources with the venv's packages (host layer build failed: {error})"


def _without_bytecode(source: Path, name: str) -> Path:
    """A copy of a package folder with no __pycache__, imported with -B so it stays that way."""
    copy = bench_dir() / name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def import_rows(runs: int, sdk: SdkState) -> list[Row]:
    layer_dir, layer_how = _host_layer()
    boto3 = ImportTarget("import boto3", "boto3")
    cached = {name: handler_target(name, LAMBDAS, layer_dir) for name in HANDLERS}
    cold_layer = _without_bytecode(layer_dir, "layer-host-nopyc")
    uncached = {name: handler_target(name, LAMBDAS, cold_layer, bytecode=False) for name in HANDLERS}
    sdk_cached = sdk_uncached = None
    if sdk.path is not None:
        sdk_cached = ImportTarget(f"import {SDK_MODULE}", SDK_MODULE, (str(sdk.path),))
        cold_sdk = _without_bytecode(sdk.path, "sdk-nopyc")
        sdk_uncached = ImportTarget(f"import {SDK_MODULE} (no .pyc)", SDK_MODULE, (str(cold_sdk),), ("-B",))
    every = [boto3, *cached.values(), *uncached.values(), *(t for t in (sdk_cached, sdk_uncached) if t)]
    outcome = measure_imports(every, runs)
    times = medians(outcome)
    boto3_s = times.get(boto3.label)
    target_text = f"<= {targets.IMPORT_OVER_BOTO3_MAX:g} x boto3, SDK >= {targets.SDK_OVER_IMPORT_MIN:g} x"

    def row(name: str, target: ImportTarget, sdk_target: ImportTarget | None, variant: str) -> Row:
        figure = f"Cold import lambdas/{name}/handler.py, {variant}"
        handler_s = times.get(target.label)
        if handler_s is None or boto3_s is None:
            reason = outcome.get(target.label) if handler_s is None else outcome.get(boto3.label)
            return Row.not_measured("3", figure, str(reason), target=target_text)
        sdk_s = times.get(sdk_target.label) if sdk_target else None
        reference = f"boto3 {fmt_ms(boto3_s)} (x{handler_s / boto3_s:.2f})"
        if sdk_s is not None:
            reference += f"; SDK {fmt_ms(sdk_s)} (x{sdk_s / handler_s:.1f} slower)"
        else:
            reference += "; SDK not measured"
        met = targets.import_met(handler_s, boto3_s, sdk_s)
        note = ""
        if not met:
            heavy = ", ".join(f"{pkg} {fmt_ms(sec)}" for pkg, sec in heaviest(outcome[target.label]))
            note = f"{figure}: heaviest packages by own import time (-X importtime): {heavy}"
        return Row("3", figure, fmt_ms(handler_s), reference, target_text, Verdict.of(met), note)

    rows: list[Row] = []
    for name in HANDLERS:
        rows.append(row(name, cached[name], sdk_cached, ".pyc cached"))
        rows.append(row(name, uncached[name], sdk_uncached, "no .pyc"))
    if sdk_cached is None:
        rows.append(Row.not_measured("3", "Cold import of the official SDK", sdk.error))
    method = (
        f"median of {runs} fresh `python -I -X importtime` processes per module (the module's cumulative"
        " import time) after 1 warm-up, modules interleaved;"
        f" handlers imported as Lambda does (`handler` from lambdas/<fn>/, {layer_how} on sys.path, none"
        " of the function's configuration, only the variables Lambda's runtime sets, e.g."
        " LAMBDA_TASK_ROOT, for every module alike); boto3 from the venv, as Lambda's runtime provides"
        " it. '.pyc cached': bytecode written by the warm-up, for handler and SDK alike, as in a layer"
        " precompiled by a build machine that has the runtime's Python. 'no .pyc': layer and SDK copies"
        " without __pycache__ imported with -B, i.e. compiled on every start, as a layer built without"
        f" that interpreter is on Lambda's read-only /opt. SDK = {SDK_MODULE} {SDK_VERSION}"
    )
    rows[0] = replace(rows[0], note="; ".join(filter(None, [method, rows[0].note])))
    return rows


def size_rows(sdk: SdkState) -> list[Row]:
    out = bench_dir()
    try:
        layer_dir, how = build_layer(out / "layer-arm64")
        layer = measure(layer_dir, out / "layer-arm64.zip")
    except Exception as error:  # noqa: BLE001 - reported in the table instead of aborting the run
        return [Row.not_measured("4", "Layer size", f"layer build failed: {error}")]
    sdk_sizes: Sizes | None = None
    if sdk.path is not None:
        sdk_sizes = measure(sdk.path, out / "sdk.zip")
    ref_unzipped = f"SDK + deps {fmt_mb(sdk_sizes.unzipped)}" if sdk_sizes else sdk.error
    ref_zipped = f"SDK + deps {fmt_mb(sdk_sizes.zipped)}" if sdk_sizes else sdk.error
    limit = f"<= {fmt_mb(targets.LAYER_UNZIPPED_MAX_BYTES)}"
    return [
        Row(
            "4",
            f"Layer unzipped (arm64, Python {LAMBDA_PYTHON_VERSION})",
            fmt_mb(layer.unzipped),
            ref_unzipped,
            limit,
            Verdict.of(targets.layer_met(layer.unzipped)),
            f"layer built with {how}; sizes are file bytes; the SDK reference is PureCloudPlatformClientV2"
            f" {SDK_VERSION} installed with pip --target (its own dependencies included)",
        ),
        Row("4", "Layer zipped (deflate)", fmt_mb(layer.zipped), ref_zipped),
    ]


def ingest_rows(conversations: int) -> list[Row]:
    figure = "Ingest CPU per event"
    try:
        result = measure_ingest_isolated(conversations)
    except Exception as error:  # noqa: BLE001 - reported in the table instead of aborting the run
        return [Row.not_measured("5", figure, f"ingest could not be driven: {error!r}")]
    note = (
        f"{result.events} events ({conversations} conversations x 3 end topics) through {result.path};"
        " boto3 clients answered in-process at botocore's before-send hook (serialization and signing"
        " measured, network not); process CPU time after a warm-up"
    )
    return [
        Row("5", figure, f"{result.cpu_us_per_event:.0f} us", "Lambda bills in 1 ms steps", note=note),
        Row(
            "5",
            "DynamoDB requests per event",
            f"{result.dynamodb_requests_per_event:.2f}",
            "1 (one UpdateItem per event, docs/design.md)",
            note=f"other AWS requests during the run: {result.other_aws_requests}"
            if result.other_aws_requests
            else "",
        ),
    ]
