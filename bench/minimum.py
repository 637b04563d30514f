"""The full-featured spawn in as few round trips as Hyper-V's dependency chain allows.

This is the reference figure the driver is held to (bench/README.md, "The minimum for
the full-featured spawn"), shown to work rather than only argued: the same VM as
`bench.flows.make_scenario(...).full`, made straight through the emulator's session API
with every call batched as far as what it depends on allows.

    1  DefineSystem: the VSSD (name, notes, generation 2, Secure Boot with the template's
       id, vNUMA on, data roots) with the SCSI controller and both NICs embedded
    2  query: the VM's resource settings (memory, processor, COM ports, the controller's
       and the NICs' paths), one polymorphic query by InstanceID prefix
    3  query: the host disk the volume is (Msvm_DiskDrive by DriveNumber)
    4  ModifyResourceSettings: memory (+ per-node), processor (+ per-node, nested
       virtualization), COM1 and COM2 to their pipes, in one call
    5  AddResourceSettings: three disk drives and the passthrough drive on the controller
       (their boot entries appear now), both switch connections on their NICs
    6  AddResourceSettings: the three VHDX files in their drives, IOPS limit included
    7  query: the VM's boot entries
    8  ModifySystemSettings: BootSourceOrder = root, ephemerals, volume, then the NICs
    9  RequestStateChange(2), and 10 the poll of its job

Host facts a driver reads once at start (the management service, the vSwitch, the
Secure Boot template id, the \\Default templates) are read before counting starts.
"""

from __future__ import annotations

from bench.flows import InstanceSpec, counted
from hyperv_emulator.counters import RoundTrips
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import parse_path
from hyperv_emulator.session import Session

MEMORY = "Microsoft:Hyper-V:Memory"
PROCESSOR = "Microsoft:Hyper-V:Processor"
SERIAL = "Microsoft:Hyper-V:Serial Port"
SCSI = "Microsoft:Hyper-V:Synthetic SCSI Controller"
RASD = "Msvm_ResourceAllocationSettingData"


class HostFacts:
    """What a driver learns once, at start, and keeps."""

    def __init__(self, session: Session, vswitch: str) -> None:
        def one(wql: str) -> Instance:
            return session.query(wql)[0]

        def template(cls: str, subtype: str | None = None) -> Instance:
            where = f"ResourceSubType = '{subtype}' AND " if subtype else ""
            return one(f"SELECT * FROM {cls} WHERE {where}InstanceID LIKE '%\\\\Default'")

        self.vsms = str(one("SELECT * FROM Msvm_VirtualSystemManagementService").path)
        self.switch = str(one("SELECT * FROM Msvm_VirtualEthernetSwitch "
                              f"WHERE ElementName = '{vswitch}'").path)
        self.templates = {
            "scsi": template(RASD, SCSI),
            "drive": template(RASD, "Microsoft:Hyper-V:Synthetic Disk Drive"),
            "physical": template(RASD, "Microsoft:Hyper-V:Physical Disk Drive"),
            "vhd": template("Msvm_StorageAllocationSettingData",
                            "Microsoft:Hyper-V:Virtual Hard Disk"),
            "nic": template("Msvm_SyntheticEthernetPortSettingData"),
            "port": template("Msvm_EthernetPortAllocationSettingData"),
        }
        self.secure_boot_templates = {
            str(t["ElementName"]): str(t["SecureBootTemplateId"])
            for t in session.query("SELECT * FROM Msvm_VirtualSystemSettingData "
                                   "WHERE VirtualSystemType IS NULL")
            if t.get("SecureBootTemplateId")
        }


def _copy(template: Instance, **values: object) -> Instance:
    fresh = template.copy()
    for name, value in values.items():
        fresh[name] = value
    return fresh


def spawn(session: Session, facts: HostFacts, spec: InstanceSpec) -> RoundTrips:
    """Make and start `spec`'s VM; return the round trips it took."""
    t = facts.templates
    with counted(session.counters, "minimum spawn") as trips:
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        values: dict[str, object] = {
            "ElementName": spec.name, "Notes": [spec.uuid], "AutomaticStartupAction": 2,
            "VirtualSystemSubType": f"Microsoft:Hyper-V:SubType:{spec.generation}",
            "VirtualNumaEnabled": spec.numa_nodes > 0,
        }
        if spec.secure_boot_template:
            values["SecureBootEnabled"] = True
            values["SecureBootTemplateId"] = facts.secure_boot_templates[
                spec.secure_boot_template]
        for root in ("ConfigurationDataRoot", "LogDataRoot", "SnapshotDataRoot",
                     "SuspendDataRoot", "SwapFileDataRoot"):
            values[root] = str(spec.directory)
        for name, value in values.items():
            vssd[name] = value
        nics = [_copy(t["nic"], ElementName=nic.port_id, Address=nic.mac.replace(":", ""),
                      StaticMacAddress=True) for nic in spec.nics]
        defined = session.invoke(facts.vsms, "DefineSystem", SystemSettings=vssd,
                                 ResourceSettings=[t["scsi"], *nics])
        system = str(defined["ResultingSystem"])
        guid = system.rsplit('Name="', 1)[1].rstrip('"')
        devices = session.query("SELECT * FROM CIM_ResourceAllocationSettingData "
                                f"WHERE InstanceID LIKE 'Microsoft:{guid}%'")
        host_disks = {v.drive_number: str(session.query(
            f"SELECT * FROM Msvm_DiskDrive WHERE DriveNumber = {v.drive_number}")[0].path)
            for v in spec.volumes}

        def device(subtype: str, suffix: str = "") -> Instance:
            return next(d for d in devices if d.get("ResourceSubType") == subtype
                        and str(d["InstanceID"]).endswith(suffix))

        memory, processor = device(MEMORY), device(PROCESSOR)
        for prop in ("VirtualQuantity", "Reservation", "Limit"):
            memory[prop] = spec.memory_mb
        processor["VirtualQuantity"] = spec.vcpus
        processor["Reservation"] = spec.vcpus
        if spec.numa_nodes:
            memory["MaxMemoryBlocksPerNumaNode"] = spec.memory_mb // spec.numa_nodes
            processor["MaxProcessorsPerNumaNode"] = spec.vcpus // spec.numa_nodes
        processor["ExposeVirtualizationExtensions"] = spec.nested_virtualization
        changes = [memory, processor]
        for port, kind in sorted(spec.serial_ports.items()):
            com = device(SERIAL, f"\\{port - 1}")
            com["Connection"] = [spec.pipe(kind)]
            changes.append(com)
        session.invoke(facts.vsms, "ModifyResourceSettings", ResourceSettings=changes)

        controller = str(device(SCSI).path)
        drives = [_copy(t["drive"], Parent=controller, AddressOnParent=slot)
                  for slot in range(len(spec.local_disks))]
        drives += [_copy(t["physical"], Parent=controller, ElementName=volume.serial,
                         AddressOnParent=len(spec.local_disks) + index,
                         HostResource=[host_disks[volume.drive_number]])
                   for index, volume in enumerate(spec.volumes)]
        nic_paths = {str(d["ElementName"]): str(d.path) for d in devices
                     if d.class_name == "Msvm_SyntheticEthernetPortSettingData"}
        ports = [_copy(t["port"], ElementName=nic.port_id, Parent=nic_paths[nic.port_id],
                       HostResource=[facts.switch]) for nic in spec.nics]
        added = session.invoke(facts.vsms, "AddResourceSettings", AffectedConfiguration=system,
                               ResourceSettings=[*drives, *ports])["ResultingResourceSettings"]
        media = [_copy(t["vhd"], Parent=str(drive), HostResource=[str(path)],
                       IOPSLimit=spec.disk_iops)
                 for drive, path in zip(added, spec.local_disks, strict=False)]
        session.invoke(facts.vsms, "AddResourceSettings", AffectedConfiguration=system,
                       ResourceSettings=media)

        entries = session.query("SELECT * FROM Msvm_BootSourceSettingData "
                                f"WHERE InstanceID LIKE 'Microsoft:{guid}%'")
        by_device = {str(e["OtherLocation"]).lower(): str(e.path) for e in entries}
        ordered = [by_device[_instance_id(p)] for p in added[:len(drives)]]
        ordered += [str(e.path) for e in entries if str(e.path) not in ordered]
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["InstanceID"] = f"Microsoft:{guid}"
        vssd["BootSourceOrder"] = ordered
        session.invoke(facts.vsms, "ModifySystemSettings", SystemSettings=vssd)

        started = session.invoke(system, "RequestStateChange", RequestedState=2)
        if started.job:
            session.get(started.job)
    return trips


def _instance_id(path: object) -> str:
    """The InstanceID key of a setting's object path, lower-cased."""
    return str(parse_path(str(path)).key_value("InstanceID")).lower()
