"""RemoteFX: tables per host version, requirements, removal from 2019, resize away."""

from __future__ import annotations

import dataclasses

import pytest

from nova_hyperv.rules import HostFacts, HyperVConfig, RemoteFxPlan, RuleViolation, plan_resize
from nova_hyperv.rules.remotefx import MAX_MONITORS, VRAM_MIB, host_offers_remotefx

from .builders import GEN2, WS2012R2, WS2016, WS2019, WS2022, make_host, make_request, plan

ON = HyperVConfig(enable_remotefx=True)
HOSTS = {"2012r2": WS2012R2, "2016": WS2016}
TABLE = [(version, res, most) for version, rows in MAX_MONITORS.items()
         for res, most in rows.items()]


def test_no_resolution_no_remotefx() -> None:
    assert plan(WS2016, ON, specs={"os:monitors": "2", "os:vram": "128"}).remotefx is None


@pytest.mark.parametrize(("version", "resolution", "most"), TABLE)
def test_each_resolution_takes_up_to_its_monitor_count(
    version: str, resolution: str, most: int
) -> None:
    host = HOSTS[version]
    specs = {"os:resolution": resolution, "os:monitors": str(most)}
    fx = plan(host, ON, specs=specs).remotefx
    assert fx is not None and (fx.resolution, fx.monitors) == (resolution, most)
    with pytest.raises(RuleViolation) as caught:
        plan(host, ON, specs={**specs, "os:monitors": str(most + 1)})
    assert caught.value.code == "remotefx-monitors-invalid"


def test_the_tables_are_hyperv_s() -> None:
    assert MAX_MONITORS["2012r2"] == {"1024x768": 4, "1280x1024": 4, "1600x1200": 3,
                                      "1920x1200": 2, "2560x1600": 1}
    assert list(MAX_MONITORS["2016"].values()) == [8, 8, 4, 4, 2, 1]
    assert VRAM_MIB == (64, 128, 256, 512, 1024)


@pytest.mark.parametrize("vram", VRAM_MIB)
def test_vram_on_2016(vram: int) -> None:
    fx = plan(WS2016, ON, specs={"os:resolution": "1024x768", "os:vram": str(vram)}).remotefx
    assert fx == RemoteFxPlan(monitors=1, resolution="1024x768", vram_bytes=vram << 20)


def test_vram_is_ignored_on_2012r2_which_has_no_such_setting() -> None:
    fx = plan(WS2012R2, ON, specs={"os:resolution": "1024x768", "os:vram": "100"}).remotefx
    assert fx == RemoteFxPlan(monitors=1, resolution="1024x768", vram_bytes=None)


def test_resolution_spelling_is_forgiving() -> None:
    fx = plan(WS2016, ON, specs={"os:resolution": " 1920 X 1200 "}).remotefx
    assert fx is not None and fx.resolution == "1920x1200"


def test_generation_2_from_2016() -> None:
    assert plan(WS2016, ON, props=GEN2, specs={"os:resolution": "1920x1200"}).remotefx


def test_removed_on_2019_points_to_dda() -> None:
    from .builders import WS2019
    with pytest.raises(RuleViolation) as caught:
        plan(WS2019, ON, specs={"os:resolution": "1920x1200"})
    assert "PCI passthrough" in caught.value.message and "DDA" in caught.value.message


def test_resize_away_from_a_remotefx_flavor_removes_it() -> None:
    before = plan(WS2016, ON, specs={"os:resolution": "1920x1200", "os:monitors": "2"})
    assert before.remotefx is not None
    after = plan_resize(before, make_request(), WS2016, ON)
    assert after.remotefx is None


@pytest.mark.parametrize(
    ("host", "enabled", "offered"),
    [(WS2016, True, True), (WS2012R2, True, True), (WS2016, False, False),
     (WS2019, True, False), (WS2022, True, False),
     (make_host((10, 0, 14393)), True, False),  # no GPU, no RDS-Virtualization
     (dataclasses.replace(WS2016, server_features=frozenset({"Hyper-V"})), True, False)],
)
def test_host_offers_remotefx_where_a_remotefx_flavor_is_not_refused(
        host: HostFacts, enabled: bool, offered: bool) -> None:
    config = HyperVConfig(enable_remotefx=enabled)
    assert host_offers_remotefx(host, config) is offered
    flavor = {"os:resolution": "1024x768"}
    if offered:
        assert plan(host, config, specs=flavor).remotefx is not None
    else:
        with pytest.raises(RuleViolation):
            plan(host, config, specs=flavor)
