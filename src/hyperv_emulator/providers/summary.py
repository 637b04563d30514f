"""GetSummaryInformation: one Msvm_SummaryInformation per requested VM, synchronously.

SettingData lists VSSD paths (NULL: every VM); the result has one element per entry,
in the same order. RequestedInformation lists ids (reference notes §2.20); only the
requested properties are filled, the rest stay NULL. On a VM that is not running the
runtime values are NULL, except UpTime, which reads 0 (as on a real host).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import parse_path
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import COMPLETED, INVALID_PARAMETER, Args, Ctx, Refused, method
from hyperv_emulator.providers.devices import settings_of_kind, vm_settings
from hyperv_emulator.providers.runtime import _on_time
from hyperv_emulator.providers.vms import RUNNING, Vm, all_vms, guid_of_setting, load_vm

VSMS = "Msvm_VirtualSystemManagementService"
SUMMARY = "Msvm_SummaryInformation"
_THUMBNAILS = {5: (80, 60), 6: (160, 120), 7: (320, 240)}
# What a client gets when it asks for nothing in particular (our choice: identity,
# processors, state, memory and uptime, the ids drivers ask for).
DEFAULT_IDS = (0, 1, 2, 3, 4, 10, 100, 103, 105, 109, 110, 111)


def _running(vm: Vm) -> bool:
    return vm.state == RUNNING


def _processors(ctx: Ctx, vm: Vm) -> int:
    found = settings_of_kind(ctx, vm, catalog.PROCESSOR)
    return int(found[0].get("VirtualQuantity", 1)) if found else 1


def _memory_usage(ctx: Ctx, vm: Vm) -> int | None:
    if vm.state not in (RUNNING, 9):
        return None
    held = ctx.aux(vm.cs).get("placement") or {}
    return sum(int(v) for v in held.values()) or None


def _switch_names(ctx: Ctx, vm: Vm) -> list[str]:
    names = []
    for connection in settings_of_kind(ctx, vm, catalog.ETHERNET_CONNECTION):
        for path in connection.get("HostResource", ()):
            switch = ctx.get(path)
            if switch is not None and switch.get("ElementName") not in names:
                names.append(switch["ElementName"])
    return names


def _dynamic(ctx: Ctx, vm: Vm) -> bool:
    memory = settings_of_kind(ctx, vm, catalog.MEMORY)
    return bool(memory and memory[0].get("DynamicMemoryEnabled"))


def _shielded(ctx: Ctx, vm: Vm) -> bool:
    if not ctx.has_class("Msvm_SecuritySettingData"):
        return False
    found = vm_settings(ctx, vm, "Msvm_SecuritySettingData")
    return bool(found and found[0].get("ShieldingRequested"))


Field = Callable[[Ctx, Vm], dict[str, Any]]

FIELDS: dict[int, Field] = {
    0: lambda ctx, vm: {"Name": vm.guid},
    1: lambda ctx, vm: {"ElementName": vm.name},
    2: lambda ctx, vm: {"CreationTime": vm.vssd.get("CreationTime")},
    3: lambda ctx, vm: {"Notes": (vm.vssd.get("Notes") or ("",))[0]},
    4: lambda ctx, vm: {"NumberOfProcessors": _processors(ctx, vm)},
    8: lambda ctx, vm: {"AllocatedGPU": None},
    9: lambda ctx, vm: {"VirtualSwitchNames": _switch_names(ctx, vm)},
    10: lambda ctx, vm: {"Version": vm.vssd.get("Version")},
    11: lambda ctx, vm: {"Shielded": _shielded(ctx, vm)},
    100: lambda ctx, vm: {"EnabledState": vm.state},
    101: lambda ctx, vm: {"ProcessorLoad": 0 if _running(vm) else None},
    102: lambda ctx, vm: {"ProcessorLoadHistory": [0] * 100 if _running(vm) else None},
    103: lambda ctx, vm: {"MemoryUsage": _memory_usage(ctx, vm)},
    104: lambda ctx, vm: {"Heartbeat": 2 if _running(vm) else None},
    105: lambda ctx, vm: {"UpTime": _on_time(vm.cs)},
    106: lambda ctx, vm: {"GuestOperatingSystem": None},
    107: lambda ctx, vm: {"Snapshots": []},
    108: lambda ctx, vm: {"AsynchronousTasks": []},
    109: lambda ctx, vm: {"HealthState": vm.cs.get("HealthState", 5)},
    110: lambda ctx, vm: {"OperationalStatus": vm.cs.get("OperationalStatus", (2,))},
    111: lambda ctx, vm: {"StatusDescriptions": vm.cs.get("StatusDescriptions", ())},
    112: lambda ctx, vm: {"MemoryAvailable": 20 if _running(vm) and _dynamic(ctx, vm) else None},
    113: lambda ctx, vm: {"AvailableMemoryBuffer": 20 if _running(vm) and _dynamic(ctx, vm)
                         else None},
    114: lambda ctx, vm: {"ReplicationMode": 0},
    115: lambda ctx, vm: {"ReplicationState": 0},
    116: lambda ctx, vm: {"ReplicationHealth": 0},
    117: lambda ctx, vm: {"ApplicationHealth": None},
    120: lambda ctx, vm: {"SwapFilesInUse": False},
    121: lambda ctx, vm: {"IntegrationServicesVersionState": 1 if _running(vm) else None},
    123: lambda ctx, vm: {"MemorySpansPhysicalNumaNodes":
                         len(ctx.aux(vm.cs).get("placement") or {}) > 1},
    132: lambda ctx, vm: {"OtherEnabledState": None},
}


def _thumbnail(size: tuple[int, int]) -> Field:
    def field(ctx: Ctx, vm: Vm) -> dict[str, Any]:
        if not _running(vm):
            return {"ThumbnailImage": None}
        width, height = size
        # A black frame in RGB565, as big as the one a real host would send.
        return {"ThumbnailImage": bytes(width * height * 2), "ThumbnailImageWidth": width,
                "ThumbnailImageHeight": height}

    return field


FIELDS.update({key: _thumbnail(size) for key, size in _THUMBNAILS.items()})


def _requested_vms(ctx: Ctx, paths: tuple[str, ...] | None) -> list[Vm]:
    if paths is None:
        return all_vms(ctx)
    found = []
    for index, text in enumerate(paths):
        try:
            parsed = parse_path(text)
        except CimError as exc:
            raise Refused(INVALID_PARAMETER, f"SettingData[{index}]: {exc.message}",
                          job=False) from None
        guid = guid_of_setting(str(parsed.key_value("InstanceID") or ""))
        vm = load_vm(ctx, guid) if guid else None
        if vm is None or parsed.class_name.lower() != "msvm_virtualsystemsettingdata":
            raise Refused(INVALID_PARAMETER, f"SettingData[{index}] {text!r} is not the "
                                             "settings of a virtual machine", job=False)
        found.append(vm)
    return found


@method(VSMS, "GetSummaryInformation")
def get_summary_information(ctx: Ctx, service: Instance | None, args: Args) -> int:
    ids = args.get("RequestedInformation")
    ids = DEFAULT_IDS if ids is None else ids
    unknown = [i for i in ids if i not in FIELDS]
    if unknown:
        raise Refused(INVALID_PARAMETER, f"RequestedInformation {unknown} are not summary "
                                         f"ids; known: {sorted(FIELDS)}", job=False)
    summaries = []
    for vm in _requested_vms(ctx, args.get("SettingData")):
        summary = ctx.new(SUMMARY, InstanceID=f"Microsoft:{vm.guid}")
        for key in ids:
            ctx.set(summary, **FIELDS[key](ctx, vm))
        summaries.append(summary)
    ctx.output("SummaryInformation", summaries)
    return COMPLETED
