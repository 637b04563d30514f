"""Our driver's column: the same operations through nova-hyperv's own driver.

The driver work fills this in. Until then `create` raises `NotReady` and every
benchmark prints an empty column with this reason: there are no numbers for a driver
that does not run, and none are made up.

How to plug the driver in (bench/README.md, "Adding our driver's column"):

- `create(host, workdir)` returns an object with the `bench.flows.Flows` methods:
  `spawn`, `destroy`, `attach_volume` / `detach_volume`, `attach_nic` / `detach_nic`,
  `power_off` / `power_on`, `get_info`, `list_instances`, `get_available_resource`,
  `update_provider_tree`, `sync_power_states`, `close`, plus `label`, `notes` and
  `counters`. Each method is one Nova driver call for the `InstanceSpec` it gets
  (build Nova's instance, flavor, image meta, block_device_info and network_info from
  it); the disk files already exist, made with vhdfile.
- `counters` must be the `hyperv_emulator.counters.Counters` of the emulator session
  the driver's CIM calls go through (`[hyperv] host_uri = emulated://<host.path>`): the
  runner opens `counters.operation(key)` around each call, so every query, get, method
  call and job poll the driver makes is counted. A round trip another session makes
  (another process, a second adapter) would be missed: use one session.
- A method the driver cannot do yet raises `NotReady("why")`; that cell stays empty.
- This module runs in its own process (bench/worker.py), apart from os-win's: Nova's
  threading mode and os-win's eventlet cannot share one.
"""

from __future__ import annotations

from pathlib import Path

from bench.flows import Flows, NotReady
from hyperv_emulator.host import Host

LABEL = "nova-hyperv"


def create(host: Host, workdir: Path) -> Flows:
    raise NotReady("our driver cannot run these operations yet (the driver work fills "
                   "bench/ours_flows.py; see bench/README.md)")
