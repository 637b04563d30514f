"""How the emulated host scales: 1000 VMs, then the queries a driver's periodic tasks send.

Prints timings and the process's peak RSS; asserts nothing (see docs/emulator.md for the
figures measured when this was written). Usage:

    .venv/bin/python bench/emulator_scale.py [--vms 1000] [--state /tmp/scale.db]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and its `vhdfile` benchmark
# folder would shadow the vhdfile package the emulator imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import vhdfile  # noqa: E402
from hyperv_emulator import init_host  # noqa: E402
from hyperv_emulator.session import Session  # noqa: E402


def _define(session: Session, vsms: str, name: str) -> None:
    vssd = session.new_instance("Msvm_VirtualSystemSettingData")
    vssd["ElementName"] = name
    vssd["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
    vssd["Notes"] = [name]
    result = session.invoke(vsms, "DefineSystem", SystemSettings=vssd)
    system = result["ResultingSystem"]
    scsi = session.query("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE "
                         "ResourceSubType = 'Microsoft:Hyper-V:Synthetic SCSI Controller' "
                         "AND InstanceID LIKE '%\\\\Default'")[0]
    controller = session.invoke(vsms, "AddResourceSettings", AffectedConfiguration=system,
                                ResourceSettings=[scsi])["ResultingResourceSettings"][0]
    drive = session.query("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE "
                          "ResourceSubType = 'Microsoft:Hyper-V:Synthetic Disk Drive' "
                          "AND InstanceID LIKE '%\\\\Default'")[0]
    drive["Parent"] = controller
    drive["AddressOnParent"] = 0
    drive_path = session.invoke(vsms, "AddResourceSettings", AffectedConfiguration=system,
                                ResourceSettings=[drive])["ResultingResourceSettings"][0]
    vhd = session.query("SELECT * FROM Msvm_StorageAllocationSettingData WHERE "
                        "ResourceSubType = 'Microsoft:Hyper-V:Virtual Hard Disk' "
                        "AND InstanceID LIKE '%\\\\Default'")[0]
    vhd["Parent"] = drive_path
    vhd["HostResource"] = [f"C:\\vms\\{name}.vhdx"]
    vhdfile.create(session.host.storage.local_path(f"C:\\vms\\{name}.vhdx"), "vhdx",
                   "dynamic", 1 << 30)
    attached = session.invoke(vsms, "AddResourceSettings", AffectedConfiguration=system,
                              ResourceSettings=[vhd])
    assert attached.return_value == 0, attached
    nic = session.query("SELECT * FROM Msvm_SyntheticEthernetPortSettingData "
                        "WHERE InstanceID LIKE '%\\\\Default'")[0]
    nic["ElementName"] = f"port-{name}"
    nic_path = session.invoke(vsms, "AddResourceSettings", AffectedConfiguration=system,
                              ResourceSettings=[nic])["ResultingResourceSettings"][0]
    port = session.query("SELECT * FROM Msvm_EthernetPortAllocationSettingData "
                         "WHERE InstanceID LIKE '%\\\\Default'")[0]
    switch = session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")[0]
    port["Parent"] = nic_path
    port["HostResource"] = [str(switch.path)]
    session.invoke(vsms, "AddResourceSettings", AffectedConfiguration=system,
                   ResourceSettings=[port])


def _timed(label: str, fn, repeat: int = 5) -> None:  # type: ignore[no-untyped-def]
    best = float("inf")
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(fn())
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<70} {best * 1000:8.1f} ms  ({size} rows)")


def _storage(session: Session, running: int) -> None:
    """What the image service costs while VMs run (it checks which files they hold)."""
    systems = session.query("SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual "
                            "Machine'")[:running]
    for system in systems:
        session.invoke(system.path, "RequestStateChange", RequestedState=2)
    service = session.query("SELECT * FROM Msvm_ImageManagementService")[0].path
    free = session.host.storage.local_path("C:\\vms\\free.vhdx")
    vhdfile.create(free, "vhdx", "dynamic", 1 << 30)
    print(f"image service with {len(systems)} VMs running:")
    _timed("GetVirtualHardDiskSettingData(a disk no VM uses)",
           lambda: [session.invoke(service, "GetVirtualHardDiskSettingData",
                                   Path="C:\\vms\\free.vhdx")])
    _timed("GetVirtualHardDiskState(a disk no VM uses: every held chain is checked)",
           lambda: [session.invoke(service, "GetVirtualHardDiskState",
                                   Path="C:\\vms\\free.vhdx")])
    sizes = iter(range(2 << 30, 3 << 30, 1 << 20))
    _timed("ResizeVirtualHardDisk(a disk no VM uses, grow by 1 MiB)",
           lambda: [session.invoke(service, "ResizeVirtualHardDisk",
                                   Path="C:\\vms\\free.vhdx", MaxInternalSize=next(sizes))])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--running", type=int, default=100,
                        help="VMs started before the image service is timed")
    args = parser.parse_args()
    state = args.state or Path(tempfile.mkdtemp()) / "scale.db"
    host = init_host(state, "ws2022", overwrite=True)
    session = host.session()
    host.storage.local_path("C:\\vms").mkdir(parents=True, exist_ok=True)
    vsms = str(session.query("SELECT * FROM Msvm_VirtualSystemManagementService")[0].path)
    start = time.perf_counter()
    for number in range(args.vms):
        _define(session, vsms, f"instance-{number:05d}")
    elapsed = time.perf_counter() - start
    print(f"{args.vms} VMs with a SCSI disk and a connected NIC: {elapsed:.1f} s "
          f"({elapsed / args.vms * 1000:.1f} ms per VM, {session.round_trips.total} round trips)")
    print(f"state file: {state.stat().st_size / 2**20:.1f} MiB")
    middle = f"instance-{args.vms // 2:05d}"
    guid = session.query(f"SELECT Name FROM Msvm_ComputerSystem WHERE ElementName = '{middle}'"
                         )[0]["Name"]
    print("queries (best of 5):")
    _timed("SELECT * FROM Msvm_ComputerSystem",
           lambda: session.query("SELECT * FROM Msvm_ComputerSystem"))
    _timed("SELECT ElementName, EnabledState FROM Msvm_ComputerSystem",
           lambda: session.query("SELECT ElementName, EnabledState FROM Msvm_ComputerSystem"))
    _timed("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType = Realized",
           lambda: session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                                 "VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'"))
    _timed("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = '<one>'",
           lambda: session.query(f"SELECT * FROM Msvm_ComputerSystem WHERE "
                                 f"ElementName = '{middle}'"))
    _timed("SELECT * FROM CIM_ResourceAllocationSettingData WHERE InstanceID LIKE '<vm>%'",
           lambda: session.query(f"SELECT * FROM CIM_ResourceAllocationSettingData WHERE "
                                 f"InstanceID LIKE 'Microsoft:{guid}%'"))
    _timed("SELECT * FROM Msvm_SyntheticEthernetPortSettingData WHERE ElementName = '<p>'",
           lambda: session.query(f"SELECT * FROM Msvm_SyntheticEthernetPortSettingData WHERE "
                                 f"ElementName = 'port-{middle}'"))
    _timed("GetSummaryInformation([4, 100, 103, 105]) for every VM",
           lambda: session.invoke(vsms, "GetSummaryInformation",
                                  RequestedInformation=[4, 100, 103, 105])["SummaryInformation"])
    from hyperv_emulator import wmi

    wmi.bind(host)
    conn = wmi.WMI(moniker="//./root/virtualization/v2")
    _timed("facade: conn.Msvm_ComputerSystem(['ElementName', 'EnabledState'])",
           lambda: conn.Msvm_ComputerSystem(["ElementName", "EnabledState"]))
    _timed("facade: os-win's list_instances query (VSSD, Realized)",
           lambda: [v.ElementName for v in conn.Msvm_VirtualSystemSettingData(
               ["ElementName"], VirtualSystemType="Microsoft:Hyper-V:System:Realized")])
    _storage(session, args.running)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
