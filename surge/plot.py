"""The surge's plot: per run, messages a second and people waiting, over time.

    .venv/plot/bin/python -m surge.plot .surge/<run>/surge.json surge.png

Runs in the plot venv (`make surge-plot`: matplotlib only), so the bot's own install does
not grow; it reads the JSON `surge.surge` wrote and imports nothing from the project.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt  # after mpl.use: the backend is chosen first

_KINDS = {"decree-bot": "decree-bot", "peer": "PTB AIORateLimiter"}


def _panel(ax: Any, run: dict[str, Any]) -> None:
    series = run["series"]
    t = list(range(len(series["sends"])))
    ax.fill_between(t, series["sends"], step="post", color="#1f77b4", alpha=0.55,
                    label="new messages/s (accepted)")  # fmt: skip
    ax.step(t, series["edits"], where="post", color="#2ca02c", lw=0.8, label="edits/s")
    ax.step(t, series["refused"], where="post", color="#d62728", lw=0.9, label="429s/s")
    ax.axhline(run["x"], color="#444", ls="--", lw=0.8, label="hidden limit X")
    top = max([run["x"] * 1.15, *series["sends"], *series["edits"], 1])
    ax.set_ylim(0, top)
    ax.set_xlabel("seconds since the first person arrived", fontsize=7)
    ax.set_ylabel("messages per second", fontsize=7)
    ax.tick_params(labelsize=7)
    waiting = ax.twinx()
    waiting.plot(t, series["waiting"], color="#ff7f0e", lw=1.1, label="people waiting")
    waiting.plot(t, series["waiting_paced"], color="#9467bd", lw=0.9, ls=":",
                 label="  … for a new message")  # fmt: skip
    waiting.set_ylim(0, max([*series["waiting"], 1]) * 1.1)
    waiting.set_ylabel("people waiting", fontsize=7)
    waiting.tick_params(labelsize=7)
    util = run["utilisation"]
    shown = "-" if util is None else f"{util:.2f}"
    workers = f"{run['workers']} {'worker' if run['workers'] == 1 else 'workers'}"
    ax.set_title(f"{_KINDS.get(run['kind'], run['kind'])}, {workers}, X={run['x']}: "
                 f"utilisation {shown}", fontsize=8)  # fmt: skip


def plot(data: dict[str, Any], png: Path) -> None:
    runs = data["runs"]
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["kind"], run["x"]), []).append(run)
    cols = max(len(g) for g in groups.values())
    fig, axes = plt.subplots(len(groups), cols, figsize=(4.6 * cols, 3.0 * len(groups)),
                             squeeze=False)  # fmt: skip
    for row, group in enumerate(groups.values()):
        for col in range(cols):
            ax = axes[row][col]
            if col < len(group):
                _panel(ax, group[col])
            else:
                ax.axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    twins = [a for a in fig.axes if a not in set(axes.flat)]
    if twins:
        more = twins[0].get_legend_handles_labels()
        handles, labels = [*handles, *more[0]], [*labels, *more[1]]
    unique = dict(zip(labels, handles, strict=False))
    fig.legend(unique.values(), unique.keys(), loc="lower center", ncol=len(unique), fontsize=7,
               frameon=False)  # fmt: skip
    fig.suptitle(f"decree-bot surge: {data['people']} people arriving within "
                 f"{data['window']:.0f} s ({data['started']})", fontsize=9)  # fmt: skip
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(png, dpi=80)


def main(argv: list[str]) -> int:
    data = json.loads(Path(argv[0]).read_text())
    plot(data, Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
