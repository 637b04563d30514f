"""NICs and hot plug eligibility (VM off, or a 2016+ host and generation 2)."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import NicPlan, Vif, can_hot_plug_nic, require_nic_hot_plug

from .builders import WS2012R2, WS2016, WS2022, plan


def test_nics_keep_order_ids_and_tags_with_normalised_macs() -> None:
    vm = plan(vifs=(Vif("p1", "FA-16-3E-00-00-01", tag="web"), Vif("p2", " fa:16:3e:00:00:02 ")))
    assert vm.nics == (NicPlan("p1", "fa:16:3e:00:00:01", "web"),
                       NicPlan("p2", "fa:16:3e:00:00:02", None))


@pytest.mark.parametrize(
    ("running", "generation", "host", "allowed"),
    [
        (False, 1, WS2012R2, True),
        (False, 2, WS2012R2, True),
        (True, 2, WS2012R2, False),
        (True, 1, WS2016, False),
        (True, 2, WS2016, True),
        (True, 2, WS2022, True),
        (True, 1, WS2022, False),
    ],
)
def test_hot_plug(running: bool, generation: int, host: object, allowed: bool) -> None:
    assert can_hot_plug_nic(running, generation, host) is allowed  # type: ignore[arg-type]
    if allowed:
        require_nic_hot_plug(running, generation, host)  # type: ignore[arg-type]
