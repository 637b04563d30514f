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
from hyperv_emulator.providers.base import COMPLETED, INVALID_PARAMETER, Args, Ctx, Refused, method
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


class Facts:
    """Per-VM facts for many VMs at once: one query per class, not one per VM."""

    def __init__(self, ctx: Ctx, vms: list[Vm]) -> None:
        self.ctx = ctx
        self.vms = vms
        self._cache: dict[str, dict[str, list[Instance]]] = {}

    def settings(self, vm: Vm, class_name: str) -> list[Instance]:
        if class_name not in self._cache:
            if len(self.vms) == 1:
                found = self.ctx.query(class_name, vm=self.vms[0].guid)
            else:
                found = self.ctx.query(class_name)
            grouped: dict[str, list[Instance]] = {}
            for setting in found:
                guid = guid_of_setting(setting.get("InstanceID"))
                if guid is not None:
                    grouped.setdefault(guid, []).append(setting)
            self._cache[class_name] = grouped
        return self._cache[class_name].get(vm.guid, [])

    def processors(self, vm: Vm) -> int:
        found = self.settings(vm, "Msvm_ProcessorSettingData")
        return int(found[0].get("VirtualQuantity", 1)) if found else 1

    def dynamic(self, vm: Vm) -> bool:
        found = self.settings(vm, "Msvm_MemorySettingData")
        return bool(found and found[0].get("DynamicMemoryEnabled"))

    def placement(self, vm: Vm) -> dict[str, int]:
        if vm.state not in (RUNNING, 9):
            return {}
        return self.ctx.aux(vm.cs).get("placement") or {}

    def memory_usage(self, vm: Vm) -> int | None:
        return sum(int(v) for v in self.placement(vm).values()) or None

    def switch_names(self, vm: Vm) -> list[str]:
        names: list[str] = []
        for connection in self.settings(vm, "Msvm_EthernetPortAllocationSettingData"):
            for path in connection.get("HostResource", ()):
                switch = self.ctx.get(path)
                if switch is not None and switch.get("ElementName") not in names:
                    names.append(switch["ElementName"])
        return names

    def shielded(self, vm: Vm) -> bool:
        if not self.ctx.has_class("Msvm_SecuritySettingData"):
            return False
        found = self.settings(vm, "Msvm_SecuritySettingData")
        return bool(found and found[0].get("ShieldingRequested"))


Field = Callable[[Facts, Vm], dict[str, Any]]

FIELDS: dict[int, Field] = {
    0: lambda f, vm: {"Name": vm.guid},
    1: lambda f, vm: {"ElementName": vm.name},
    2: lambda f, vm: {"CreationTime": vm.vssd.get("CreationTime")},
    3: lambda f, vm: {"Notes": (vm.vssd.get("Notes") or ("",))[0]},
    4: lambda f, vm: {"NumberOfProcessors": f.processors(vm)},
    8: lambda f, vm: {"AllocatedGPU": None},
    9: lambda f, vm: {"VirtualSwitchNames": f.switch_names(vm)},
    10: lambda f, vm: {"Version": vm.vssd.get("Version")},
    11: lambda f, vm: {"Shielded": f.shielded(vm)},
    100: lambda f, vm: {"EnabledState": vm.state},
    101: lambda f, vm: {"ProcessorLoad": 0 if _running(vm) else None},
    102: lambda f, vm: {"ProcessorLoadHistory": [0] * 100 if _running(vm) else None},
    103: lambda f, vm: {"MemoryUsage": f.memory_usage(vm)},
    104: lambda f, vm: {"Heartbeat": 2 if _running(vm) else None},
    105: lambda f, vm: {"UpTime": _on_time(vm.cs)},
    106: lambda f, vm: {"GuestOperatingSystem": None},
    107: lambda f, vm: {"Snapshots": []},
    108: lambda f, vm: {"AsynchronousTasks": []},
    109: lambda f, vm: {"HealthState": vm.cs.get("HealthState", 5)},
    110: lambda f, vm: {"OperationalStatus": vm.cs.get("OperationalStatus", (2,))},
    111: lambda f, vm: {"StatusDescriptions": vm.cs.get("StatusDescriptions", ())},
    112: lambda f, vm: {"MemoryAvailable": 20 if _running(vm) and f.dynamic(vm) else None},
    113: lambda f, vm: {"AvailableMemoryBuffer": 20 if _running(vm) and f.dynamic(vm)
                       else None},
    114: lambda f, vm: {"ReplicationMode": 0},
    115: lambda f, vm: {"ReplicationState": 0},
    116: lambda f, vm: {"ReplicationHealth": 0},
    117: lambda f, vm: {"ApplicationHealth": None},
    120: lambda f, vm: {"SwapFilesInUse": False},
    121: lambda f, vm: {"IntegrationServicesVersionState": 1 if _running(vm) else None},
    123: lambda f, vm: {"MemorySpansPhysicalNumaNodes": len(f.placement(vm)) > 1},
    132: lambda f, vm: {"OtherEnabledState": None},
}


def _thumbnail(size: tuple[int, int]) -> Field:
    def field(facts: Facts, vm: Vm) -> dict[str, Any]:
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
    param = ctx.method.param("RequestedInformation") if ctx.method else None
    known = param.values if param is not None and param.values else FIELDS
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise Refused(INVALID_PARAMETER, f"RequestedInformation {unknown} are not summary "
                                         f"ids; known: {sorted(known)}", job=False)
    vms = _requested_vms(ctx, args.get("SettingData"))
    facts = Facts(ctx, vms)
    summaries = []
    for vm in vms:
        summary = ctx.new(SUMMARY, InstanceID=f"Microsoft:{vm.guid}")
        for key in ids:
            if key in FIELDS:  # 133 has no documented property: nothing to fill
                ctx.set(summary, **FIELDS[key](facts, vm))
        summaries.append(summary)
    ctx.output("SummaryInformation", summaries)
    return COMPLETED
