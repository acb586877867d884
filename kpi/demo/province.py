"""A synthetic province: N communes, each with its own villages and data, clearly marked synthetic."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from kpi import demo
from kpi.core import paths
from kpi.plan.model import Plan, Village


def write_province_demo(out: str | Path, plan: Plan, communes: int, seed: int = 2026) -> list[Path]:
    """<out>/xa_NNN/{commune.yml, submissions/<period>/<unit>.csv} for N communes of 8–30 villages. Every
    seventh commune's Phòng Kinh tế has not sent the last month (so the province report lists missing
    communes)."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    written = []
    last = f"{plan.year}-{demo.LAST_MONTH:02d}"
    for n in range(1, communes + 1):
        name = f"xa_{n:03d}"
        k = int(rng.integers(8, 31))
        villages = [f"Thôn {v}" for v in range(1, k + 1)]
        cplan = replace(plan, commune=f"Xã Mẫu {n}",
                        villages=tuple(Village(code=f"t{v:02d}", name=vn) for v, vn in enumerate(villages, 1)))
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "commune.yml").write_text(yaml.safe_dump({"commune": cplan.commune, "villages": villages},
                                                           allow_unicode=True), encoding="utf-8")
        frame = demo.demo_frame(cplan, seed=seed + n)
        if n % 7 == 0:
            frame = frame[~((frame["unit"] == "kt") & (frame["period"] == last))]
        frame["value"] = frame["value"].map(demo._fmt_value)
        for (period, unit), part in frame.groupby(["period", "unit"], sort=True):
            target = paths.submissions_dir(folder) / period / f"{unit}.csv"
            target.parent.mkdir(parents=True, exist_ok=True)
            part.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
            written.append(target)
    (out / "README.md").write_text(
        f"# {demo.MARK}\n\nTỉnh giả lập: {communes} xã, sinh bởi `kpi demo-data --communes {communes} --seed {seed}`."
        f"\n\nSynthetic province of {communes} communes; not real figures.\n", encoding="utf-8")
    return written
