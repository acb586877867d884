"""Part f of benchmarks/run.py: the province's inbox holding one hostile package of each kind (issue 27), against the
same inbox without them. Five synthetic communes (kpi demo-data --communes 5) make their keys and signed February
packages; the hostile ones are built here from those. Measured: the peak memory (max RSS, from wait4) of the `kpi`
process that reads the inbox, for `kpi scorecard --packages` and `kpi run --packages --format html`, each on the
clean and on the hostile inbox; the goal is at most 300 MB above the clean run. Also checked: the hostile run rolls
up the same communes into byte-identical province_scorecard.csv and communes.csv, and names every hostile package.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PERIOD = "2026-02"
PREFIX = f"bao-cao-{PERIOD}/package/"
MB = 1024 * 1024
BOMB_MB = 2000  # inflates to ~2 GB (the 4.1 MB zip took 4.3 GB); zipfile's plain limit is 2 GiB - 1
GOAL_MB = 300


def _zip(files: dict[str, bytes], target: Path, extra: list[tuple[zipfile.ZipInfo, bytes]] = ()) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zf.writestr(PREFIX + name, body)
        for info, body in extra:
            zf.writestr(info, body)


def _bomb(target: Path, files: dict[str, bytes], member: str, claimed: int | None) -> None:
    """The package's zip whose `member` is BOMB_MB of zeros (about 2 MB compressed); with `claimed`, the central
    directory says that many bytes instead (a header that lies)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            if name != member:
                zf.writestr(PREFIX + name, body)
        with zf.open(PREFIX + member, "w") as f:
            zero = bytes(MB)
            for _ in range(BOMB_MB):
                f.write(zero)
    if claimed is not None:
        data = bytearray(target.read_bytes())
        end = data.rfind(b"PK\x05\x06")
        at = struct.unpack_from("<L", data, end + 16)[0]  # the central directory's first entry
        while at >= 0 and data[at:at + 4] == b"PK\x01\x02":
            size = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46:at + 46 + size].decode() == PREFIX + member:
                struct.pack_into("<L", data, at + 24, claimed)
            extra, comment = struct.unpack_from("<HH", data, at + 30)
            at += 46 + size + extra + comment
        target.write_bytes(bytes(data))


def _edited(files: dict[str, bytes], resource: str, body: bytes) -> dict[str, bytes]:
    out = {**files, resource: body}
    d = json.loads(out["datapackage.json"])
    for r in d["resources"]:
        if r["path"] == resource:
            r["hash"], r["bytes"] = "sha256:" + hashlib.sha256(body).hexdigest(), len(body)
    out["datapackage.json"] = json.dumps(d, ensure_ascii=False, indent=2).encode("utf-8")
    return out


def build(work: Path) -> tuple[Path, Path, Path, list[str]]:
    """(clean inbox, hostile inbox, province plan, the hostile files' names), built under `work`."""
    from nacl.signing import SigningKey

    from kpi import province
    from kpi.core import paths, signing
    from kpi.indicators import compute
    from kpi.intake.validate import load_submissions
    from kpi.outputs.package import write_package
    from kpi.plan import load_plan

    root = work / "communes"
    subprocess.run([sys.executable, "-m", "kpi", "demo-data", "--communes", "5", "--out", str(root)], check=True,
                   capture_output=True)
    plan = load_plan(paths.PARAMS_DIR / "plan_2026.yml")
    clean, entries, made = work / "clean", [], {}
    clean.mkdir()
    for folder in paths.commune_dirs(root):
        pair, _ = signing.make_key(folder.name, folder.name)
        entries.append({"id": folder.name, "key": signing.public_text(pair.public)})
        cplan = province.commune_plan(plan, folder)
        subs = load_submissions(folder, cplan)
        pkg = write_package(cplan, subs, PERIOD, compute.scorecard(subs.data, cplan, PERIOD),
                            work / "out" / folder.name / PERIOD, folder, paths.PARAMS_DIR / "plan_2026.yml", "2026-03-06")
        made[folder.name] = {p.name: p.read_bytes() for p in sorted(pkg.iterdir())}
        _zip(made[folder.name], clean / f"{folder.name}.zip")
    (work / "tinh.yml").write_text(json.dumps({"communes": entries}), encoding="utf-8")  # JSON is YAML
    box = work / "hostile"
    shutil.copytree(clean, box)
    ids = sorted(made)
    a, b = made[ids[0]], made[ids[1]]
    hostile = {"bomb_descriptor.zip", "bomb_lying_signed.zip", "ratio.zip", "members.zip", "traversal.zip",
               "absolute.zip", "link.zip", "forged.zip", "resigned.zip", "unsigned.zip"}
    _bomb(box / "bomb_descriptor.zip", a, "datapackage.json", None)  # an honest header: 2 GB descriptor
    hist = a["history.csv"]  # a hostile commune (its own key) whose history.csv lies in the header: says its size
    lying = _edited(a, "history.csv", hist)
    own = signing.load_key(ids[0])
    lying["datapackage.json.sig"] = signing.signature_bytes(lying["datapackage.json"], own)
    _bomb(box / "bomb_lying_signed.zip", lying, "history.csv", len(hist))
    ratio = _edited(a, "history.csv", b"0" * (19 * MB))
    ratio["datapackage.json.sig"] = signing.signature_bytes(ratio["datapackage.json"], own)
    _zip(ratio, box / "ratio.zip")
    with zipfile.ZipFile(box / "members.zip", "w") as zf:  # 200 000 empty members
        for n in range(200_000):
            zf.writestr(f"f{n}", b"")
    _zip(a, box / "traversal.zip", [(zipfile.ZipInfo("../../evil.txt"), b"x")])
    _zip(a, box / "absolute.zip", [(zipfile.ZipInfo("/tmp/evil2.txt"), b"x")])
    link = zipfile.ZipInfo(PREFIX + "notes.csv")
    link.external_attr = 0o120777 << 16
    _zip({k: v for k, v in a.items() if k != "notes.csv"}, box / "link.zip", [(link, b"/etc/passwd")])
    d = json.loads(b["datapackage.json"])
    d["kpi"]["commune_id"] = ids[2]
    forged = {**b, "datapackage.json": json.dumps(d, ensure_ascii=False, indent=2).encode("utf-8")}
    forged["datapackage.json.sig"] = signing.signature_bytes(forged["datapackage.json"], signing.load_key(ids[1]))
    _zip(forged, box / "forged.zip")
    stranger = signing.KeyPair("x", bytes(SigningKey.generate()), Path("/nonexistent"))
    edit = _edited(a, "scorecard.csv", a["scorecard.csv"].replace(b",", b",9", 1))
    edit["datapackage.json.sig"] = signing.signature_bytes(edit["datapackage.json"], stranger)
    _zip(edit, box / "resigned.zip")
    _zip({k: v for k, v in a.items() if not k.endswith(".sig")}, box / "unsigned.zip")
    return clean, box, work / "tinh.yml", sorted(hostile)


def run_one(cmd: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """The command in a fresh interpreter whose only child it is, so RUSAGE_CHILDREN's max RSS is its own."""
    code = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True); "
            "print(json.dumps({'rc': p.returncode, 'mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "'s': time.perf_counter() - t, 'out': p.stdout.decode('utf-8', 'replace'), "
            "'err': p.stderr.decode('utf-8', 'replace')}))")
    proc = subprocess.run([sys.executable, "-c", code, *cmd], env=env, capture_output=True, text=True)
    r = json.loads(proc.stdout)
    return r["mib"], r["s"], subprocess.CompletedProcess(cmd, r["rc"], r["out"], r["err"])


def part_f() -> dict:
    work = Path(tempfile.mkdtemp(prefix="kpi-bench-inbox-"))
    env = {**os.environ, "KPI_KEYS": str(work / "keys")}
    os.environ["KPI_KEYS"] = env["KPI_KEYS"]
    try:
        t = time.perf_counter()
        clean, box, pplan, hostile = build(work)
        res = {"build_s": time.perf_counter() - t, "inbox_mb": sum(p.stat().st_size for p in box.iterdir()) / MB,
               "hostile": hostile}
        kpi = [sys.executable, "-m", "kpi"]
        for name, args in (("scorecard", ["scorecard", "--format", "csv"]),
                           ("run", ["run", "--format", "html", "--workers", "1"])):
            for inbox in ("clean", "hostile"):
                folder = clean if inbox == "clean" else box
                extra = ["--out", str(work / f"out-{name}-{inbox}")] if name == "run" else []
                mib, s, proc = run_one(kpi + args + ["--packages", str(folder), "--province-plan", str(pplan), *extra],
                                       env)
                res[f"{name}_{inbox}"] = {"peak_mib": mib, "seconds": s, "exit": proc.returncode}
                if name == "scorecard":
                    res[f"{name}_{inbox}"]["stdout"] = proc.stdout
                    if inbox == "hostile":
                        res["named"] = {h: sum(h in line for line in proc.stderr.splitlines()) for h in hostile}
        tables = [{n: (work / f"out-run-{i}" / "province" / PERIOD / n).read_bytes()
                   for n in ("province_scorecard.csv", "communes.csv")} for i in ("clean", "hostile")]
        res["same_tables"] = tables[0] == tables[1]
        res["same_scorecard_stdout"] = res["scorecard_clean"].pop("stdout") == res["scorecard_hostile"].pop("stdout")
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_f(res: dict) -> None:
    print(f"\n(f) province inbox with one hostile package of each kind ({len(res['hostile'])}: "
          f"{', '.join(res['hostile'])}; {res['inbox_mb']:.1f} MB on disk, built in {res['build_s']:.0f} s) vs the "
          f"same inbox without them (5 signed communes); peak = max RSS of the command's largest process")
    for name in ("scorecard", "run"):
        c, h = res[f"{name}_clean"], res[f"{name}_hostile"]
        above = h["peak_mib"] - c["peak_mib"]
        print(f"    kpi {name:<9} --packages: clean {c['peak_mib']:.0f} MiB ({c['seconds']:.1f} s, exit {c['exit']})   "
              f"hostile {h['peak_mib']:.0f} MiB ({h['seconds']:.1f} s, exit {h['exit']})   above: {above:+.0f} MiB "
              f"(goal <= {GOAL_MB} MB: {'met' if above * 1.048576 <= GOAL_MB else 'NOT MET'})")
    named = res.get("named", {})
    print(f"    every hostile package named once on the terminal: {all(v == 1 for v in named.values())} "
          f"{'' if all(v == 1 for v in named.values()) else named}; same province_scorecard.csv and communes.csv: "
          f"{res['same_tables']}; same scorecard on stdout: {res['same_scorecard_stdout']}")
