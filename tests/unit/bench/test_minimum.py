"""The dependency-chain minimum is real: 10 round trips make the same VM os-win makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import minimum
from bench.flows import Scenario
from bench.oswin_flows import OsWinFlows

from hyperv_emulator.counters import RoundTrips
from hyperv_emulator.host import Host
from hyperv_emulator.inventory import describe

Fresh = Callable[[str], tuple[Host, Scenario]]


def _vm(host: Host, name: str) -> dict[str, Any]:
    with host.session() as session:
        vm = next(v for v in describe(session)["vms"] if v["name"] == name)
    vm.pop("id")
    boot = vm["firmware"].pop("boot_order")
    vm["boot entries"] = len(boot)
    for controller in vm["storage"]:
        for drive in controller["drives"]:
            if drive["path"] and "Msvm_DiskDrive" in drive["path"]:
                drive["path"] = drive["path"].rsplit("\\", 1)[-1]  # the disk number
    return vm


def _spawn_minimum(host: Host, scenario: Scenario) -> RoundTrips:
    with host.session() as session:
        facts = minimum.HostFacts(session, scenario.full.vswitch)
        return minimum.spawn(session, facts, scenario.full)


def test_the_full_spawn_takes_ten_round_trips(fresh: Fresh) -> None:
    host, scenario = fresh("minimum")
    trips = _spawn_minimum(host, scenario)
    # define; 3 queries (devices, host disk, boot entries); modify, 2 adds, boot order,
    # start; the start job's poll.
    assert trips == RoundTrips(queries=3, gets=0, calls=6, job_polls=1)


def test_the_minimum_makes_the_vm_oswin_makes(fresh: Fresh,
                                              open_oswin: Callable[[Host], OsWinFlows]) -> None:
    ours_host, scenario = fresh("minimum")
    _spawn_minimum(ours_host, scenario)
    oswin_host, oswin_scenario = fresh("oswin")
    open_oswin(oswin_host).spawn(oswin_scenario.full)
    made, expected = _vm(ours_host, scenario.full.name), _vm(oswin_host, scenario.full.name)
    # The instance folders and the hosts' pipe folders differ (one per host); everything
    # else must not.
    for vm, spec, host in ((made, scenario.full, ours_host),
                           (expected, oswin_scenario.full, oswin_host)):
        for controller in vm["storage"]:
            for drive in controller["drives"]:
                drive["path"] = (drive["path"] or "").replace(str(spec.directory), "<dir>")
        for endpoint in vm.get("serial_endpoints", ()):
            endpoint["socket"] = endpoint["socket"].replace(str(host.path), "<host>")
    assert made == expected


def test_the_boot_order_starts_with_the_root_disk(fresh: Fresh) -> None:
    host, scenario = fresh("boot")
    _spawn_minimum(host, scenario)
    with host.session() as session:
        vssd = session.query("SELECT * FROM Msvm_VirtualSystemSettingData "
                             f"WHERE ElementName = '{scenario.full.name}'")[0]
        first = session.get(vssd["BootSourceOrder"][0])
        device = session.query("SELECT * FROM Msvm_StorageAllocationSettingData WHERE "
                               f"Parent = '{_drive_path(session, first['OtherLocation'])}'")
    assert list(device[0]["HostResource"]) == [str(scenario.full.root)]


def _drive_path(session: Any, instance_id: str) -> str:
    drive = session.query("SELECT * FROM Msvm_ResourceAllocationSettingData "
                          f"WHERE InstanceID = '{instance_id.replace(chr(92), chr(92) * 2)}'")[0]
    return str(drive.path).replace("\\", "\\\\").replace("'", "\\'")
