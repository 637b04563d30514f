"""A VM as the providers see it: its Msvm_ComputerSystem plus its live VSSD.

Everything of a VM carries its GUID: the CS `Name`, the VSSD `Microsoft:<GUID>`, and
every device setting `Microsoft:<GUID>\\...` (reference notes §4.1); the store's `vm`
column holds it too, so a VM's rows are found (and destroyed) by one index lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import parse_path
from hyperv_emulator.providers.base import INVALID_PARAMETER, Ctx, Refused

REALIZED = "Microsoft:Hyper-V:System:Realized"
SUBTYPE_GEN1 = "Microsoft:Hyper-V:SubType:1"
SUBTYPE_GEN2 = "Microsoft:Hyper-V:SubType:2"

# EnabledState of a VM (reference notes §2.1).
RUNNING = 2
OFF = 3
STOPPING = 4
SAVED = 6
PAUSED = 9
STARTING = 10
RESETTING = 11
SAVING = 32773
PAUSING = 32776
RESUMING = 32777
STABLE_STATES = frozenset({RUNNING, OFF, SAVED, PAUSED})
STATE_NAMES = {
    RUNNING: "Running", OFF: "Off", STOPPING: "Stopping", SAVED: "Saved", PAUSED: "Paused",
    STARTING: "Starting", RESETTING: "Resetting", SAVING: "Saving", PAUSING: "Pausing",
    RESUMING: "Resuming",
}

_GUID = r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}"
_SETTING_ID = re.compile(rf"^Microsoft:({_GUID})(?:\\|$)", re.IGNORECASE)


def guid_of_setting(instance_id: str | None) -> str | None:
    """The VM GUID a `Microsoft:<GUID>\\...` InstanceID belongs to (None for templates)."""
    if not instance_id:
        return None
    match = _SETTING_ID.match(instance_id)
    return match.group(1).upper() if match else None


@dataclass
class Vm:
    cs: Instance
    vssd: Instance

    @property
    def guid(self) -> str:
        return str(self.cs["Name"])

    @property
    def name(self) -> str:
        return str(self.cs.get("ElementName", ""))

    @property
    def generation(self) -> int:
        return 2 if self.vssd.get("VirtualSystemSubType") == SUBTYPE_GEN2 else 1

    @property
    def state(self) -> int:
        return int(self.cs.get("EnabledState", OFF))

    @property
    def is_off(self) -> bool:
        return self.state == OFF

    @property
    def version(self) -> tuple[int, ...]:
        """The configuration version as numbers ((8, 0) for "8.0"), to compare."""
        try:
            return tuple(int(part) for part in str(self.vssd.get("Version") or "0").split("."))
        except ValueError:
            return (0,)

    @property
    def prefix(self) -> str:
        return f"Microsoft:{self.guid}"

    def describe(self) -> str:
        return f"'{self.name}' (Virtual machine ID {self.guid})"


def cs_path(ctx: Ctx, guid: str) -> str:
    return (
        f"\\\\{ctx.hostname}\\root\\virtualization\\v2:Msvm_ComputerSystem."
        f'CreationClassName="Msvm_ComputerSystem",Name="{guid}"'
    )


def load_vm(ctx: Ctx, guid: str) -> Vm | None:
    cs = ctx.get(cs_path(ctx, guid))
    if cs is None or cs.get("Caption") != "Virtual Machine":
        return None
    vssd = ctx.get(
        f"\\\\{ctx.hostname}\\root\\virtualization\\v2:Msvm_VirtualSystemSettingData."
        f'InstanceID="Microsoft:{guid.upper()}"'
    )
    if vssd is None:
        return None
    return Vm(cs, vssd)


def vm_of_configuration(ctx: Ctx, path: str | None, what: str) -> Vm:
    """The VM a client names by its CS path or its VSSD path (os-win uses both)."""
    if not path:
        raise Refused(INVALID_PARAMETER, f"{what} is required")
    try:
        parsed = parse_path(path)
    except CimError as exc:
        raise Refused(INVALID_PARAMETER, f"{what}: {exc.message}") from None
    guid = None
    if parsed.class_name.lower() == "msvm_computersystem":
        guid = str(parsed.key_value("Name") or "")
    elif parsed.class_name.lower() == "msvm_virtualsystemsettingdata":
        instance_id = str(parsed.key_value("InstanceID") or "")
        guid = guid_of_setting(instance_id)
        if guid is not None and instance_id.upper() != f"MICROSOFT:{guid}":
            raise Refused(INVALID_PARAMETER, f"{what}: {path} is not a VM's live settings")
    vm = load_vm(ctx, guid) if guid else None
    if vm is None:
        raise Refused(INVALID_PARAMETER, f"{what}: {path} is not a virtual machine of this host")
    return vm


def vm_of_setting(ctx: Ctx, setting: Instance) -> Vm | None:
    guid = guid_of_setting(setting.get("InstanceID"))
    return load_vm(ctx, guid) if guid else None


def all_vms(ctx: Ctx) -> list[Vm]:
    """Every realized VM, in creation order (two queries, whatever the VM count)."""
    systems = {
        cs["Name"].upper(): cs
        for cs in ctx.query("Msvm_ComputerSystem",
                            where=lambda i: i.get("Caption") == "Virtual Machine")
    }
    found = []
    for vssd in ctx.query("Msvm_VirtualSystemSettingData",
                          hint=("eq", "VirtualSystemType", REALIZED)):
        guid = guid_of_setting(vssd.get("InstanceID"))
        if guid and guid in systems and vssd.get("InstanceID", "").upper() == f"MICROSOFT:{guid}":
            found.append(Vm(systems[guid], vssd))
    return found
