"""Issue 6.4 (the plan copy): a plan given through KPI_PLAN/--plan is untrusted text too. Nested YAML aliases
(a 'billion laughs' file), a self-containing alias or deep nesting are refused at once with a PlanError, while the
real plan's aliases for repeated text stay allowed."""

from __future__ import annotations

import subprocess
import sys

from kpi.core import paths
from kpi.plan import load_plan

LAUGHS = "".join(f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
                 for i in range(9))
CASES = {
    "bomb.yml": LAUGHS,  # 9**9 strings once expanded
    "self.yml": "a: &x [1]\nb: &y [*x, *y]\n",
    "deep.yml": "a: " + "[" * 300 + "]" * 300 + "\n",
}
PROBE = """
import sys
from kpi.plan import PlanError, parse_plan
for name, text in zip(sys.argv[1::2], sys.argv[2::2]):
    try:
        parse_plan(text, name)
    except PlanError as exc:
        print(name, "refused:", str(exc).splitlines()[0])
"""


def test_hostile_plan_yaml_is_refused_quickly(tmp_path):
    # Catches: load_plan expanding nested aliases (hangs for minutes, then runs out of memory) or recursing
    # without end on a self-containing alias (RecursionError instead of a PlanError).
    real = paths.PLAN_FILE.read_text(encoding="utf-8")
    args = [x for name, text in CASES.items() for x in (name, text + real)]
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(CASES)
    assert "bí danh" in lines[0] and "bí danh" in lines[1] and "lồng nhau quá sâu" in lines[2]


def test_the_real_plan_with_its_aliases_still_loads():
    assert "*p3" in paths.PLAN_FILE.read_text(encoding="utf-8")
    assert load_plan().commune
