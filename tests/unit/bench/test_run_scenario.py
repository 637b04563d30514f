"""run_scenario with a driver that cannot do everything: what runs, what stays empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.flows import OPERATION_KEYS, NotReady, make_scenario, run_scenario

from hyperv_emulator.counters import Counters


class _Partial:
    """A driver whose every operation costs one query, except those it cannot do."""

    label = "partial"

    def __init__(self, cannot: set[str]) -> None:
        self.cannot = cannot
        self.notes = ["partial: a test driver"]
        self.counters = Counters()
        self.done: list[str] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def operation(*args: object) -> None:
            if name in self.cannot:
                raise NotReady(f"{name} is not there")
            self.counters.count("queries")
            self.done.append(name)

        return operation


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return make_scenario(Path(tmp_path_factory.mktemp("scenario")))


def test_an_attach_that_cannot_run_takes_its_detach_along_and_the_rest_runs(scenario) -> None:
    flows = _Partial({"attach_nic"})
    result = run_scenario(flows, scenario)
    empty = {key for key, trips in result.counts.items() if trips is None}
    assert empty == {"attach_nic", "detach_nic"}
    assert all(result.counts[k].total == 1 for k in OPERATION_KEYS if k not in empty)
    assert result.notes == ["partial: a test driver",
                            "attach_nic: not ready: attach_nic is not there",
                            "detach_nic: not run: it needs attach_nic"]
    assert "destroy" in flows.done


def test_a_spawn_that_cannot_run_stops_the_run(scenario) -> None:
    flows = _Partial({"spawn"})
    result = run_scenario(flows, scenario)
    assert all(trips is None for trips in result.counts.values())
    assert flows.done == []
    assert result.notes[-1] == "spawn_basic_gen1: not ready: spawn is not there"
