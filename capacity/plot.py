"""The PNG beside the table: per stage, demand, throughput and capacity per second, and the backlog,
over the modelled period (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from capacity.deployment import STAGES
from capacity.model import Simulation


def plot(simulation: Simulation, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = path if path.suffix else path.with_suffix(".png")  # what savefig writes for a bare name
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(len(STAGES), 1, figsize=(11, 2.3 * len(STAGES)), sharex=True)
    hours_per_point = simulation.record_s / 3600
    for axis, name in zip(axes, STAGES, strict=True):
        stage = simulation.stages[name]
        hours = [(index + 0.5) * hours_per_point for index in range(len(stage.throughput))]
        axis.plot(hours, list(stage.demand), color="tab:blue", linewidth=1.0, label="demand /s")
        axis.plot(hours, list(stage.throughput), color="tab:green", linewidth=1.0, label="throughput /s")
        axis.plot(
            hours, list(stage.capacity), color="tab:gray", linewidth=0.8, linestyle="--", label="capacity /s"
        )
        axis.set_ylabel(f"{stage.unit}/s", fontsize=8)
        axis.set_title(name, fontsize=9, loc="left")
        peak_rate = max([*stage.demand, *stage.throughput, 1e-9])
        axis.set_ylim(0, peak_rate * 1.6)  # capacity far above demand would flatten the curves
        backlog_axis = axis.twinx()
        backlog_axis.fill_between(
            hours, list(stage.backlog), color="tab:red", alpha=0.25, step="mid", label="backlog"
        )
        backlog_axis.set_ylabel(f"backlog ({stage.unit})", fontsize=8, color="tab:red")
        backlog_axis.set_ylim(0, max([*stage.backlog, 1.0]) * 1.1)
        axis.tick_params(labelsize=7)
        backlog_axis.tick_params(labelsize=7, colors="tab:red")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(
        [*handles],
        [
            *labels,
        ],
        loc="upper right",
        fontsize=8,
        ncols=3,
    )
    axes[-1].set_xlabel("hours from the start of the profile")
    figure.suptitle(title, fontsize=10, x=0.01, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
