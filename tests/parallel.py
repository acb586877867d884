"""The suite on every core (pytest-xdist; pyproject.toml's addopts: `-n logical --dist loadgroup`), hooks imported
by tests/conftest.py.

Each worker is a process with its own session: a session- or module-scoped fixture is built in every worker whose
tests ask for it. So the tests are sent to the workers in groups:
- every test that needs an expensive shared fixture (a real batch, the axe pass in Chromium: SHARED_ONCE, or any
  module-scoped fixture), directly or through another fixture, joins that fixture's group; groups that share a test
  are merged, so each such fixture is built in one worker only;
- the groups go heaviest first (a test marked `slow` weighs SLOW, any other 1), then the single quick tests fill
  in: the two workers end close together instead of one waiting for a long test started last.

pytest-xdist's own `loadgroup` reads `xdist_group` marks but cannot rename the tests of pytest 9 (it sets
`item._nodeid`, which pytest 9 no longer reads), so the workers write the groups they found to a file the
controller's scheduler reads (the collections of all workers are the same; xdist checks it).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

SHARED_ONCE = frozenset({"rendered", "province_rendered", "hostile"})
SLOW = 20
_FOLDER = pytest.StashKey[Path]()


def groups_of(items: list[pytest.Item]) -> dict[str, str]:
    """nodeid -> its group (the name of one of the shared fixtures it needs), for the tests that have one."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keys_of = {}
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        keys = []
        for name in getattr(item, "fixturenames", ()):
            defs = info.name2fixturedefs.get(name) if info else None
            if name in SHARED_ONCE:
                keys.append(name)
            elif defs and defs[-1].scope == "module":
                keys.append(f"{item.module.__name__}.{name}")
        for a, b in zip(keys, keys[1:]):
            parent[find(a)] = find(b)
        keys_of[item.nodeid] = keys
    return {nodeid: find(keys[0]) for nodeid, keys in keys_of.items() if keys}


def _folder(config: pytest.Config) -> Path:
    if _FOLDER not in config.stash:
        config.stash[_FOLDER] = Path(tempfile.mkdtemp(prefix="kpi-test-groups-"))
    return config.stash[_FOLDER]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Controller: tell each worker where to write the groups."""
    node.workerinput["kpi_groups"] = str(_folder(node.config))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _FOLDER in config.stash:
        shutil.rmtree(config.stash[_FOLDER], ignore_errors=True)


@pytest.hookimpl(trylast=True)  # after -k/-m deselection and any reordering: the items the worker will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Worker: write {"groups": nodeid -> group, "weights": group or nodeid -> weight}."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or "kpi_groups" not in workerinput:
        return
    groups = groups_of(items)
    weights: dict[str, int] = {}
    for item in items:
        scope = groups.get(item.nodeid, item.nodeid)
        weights[scope] = weights.get(scope, 0) + (SLOW if item.get_closest_marker("slow") else 1)
    target = Path(workerinput["kpi_groups"]) / f"groups-{workerinput['workerid']}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"groups": groups, "weights": weights}), encoding="utf-8")
    os.replace(tmp, target)


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own choice of scheduler
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    folder = _folder(config)

    class HeaviestGroupFirst(LoadScopeScheduling):
        """xdist's scope scheduling (a group's tests go to one worker together), with our groups as scopes and
        the heaviest waiting group sent first."""

        _plan: dict | None = None

        def plan(self) -> dict:
            if self._plan is None:  # first asked in schedule(), once every worker has sent its collection
                found = sorted(folder.glob("groups-*.json"))
                self._plan = (json.loads(found[0].read_text(encoding="utf-8")) if found
                              else {"groups": {}, "weights": {}})
            return self._plan

        def _split_scope(self, nodeid: str) -> str:
            return self.plan()["groups"].get(nodeid, nodeid)

        def _assign_work_unit(self, node) -> None:
            weights = self.plan()["weights"]
            heaviest = max(self.workqueue, key=lambda scope: weights.get(scope, 1))
            self.workqueue.move_to_end(heaviest, last=False)
            super()._assign_work_unit(node)

    return HeaviestGroupFirst(config, log)
