"""Rules that tie the processor and memory settings to VM-wide features.

Nested virtualization (`ExposeVirtualizationExtensions`) needs a Windows Server 2016
or later host (the property exists from 10586), a VM of configuration version 8.0 or
later and static memory; it changes only while the VM is off (part 1's processor
rules). Dynamic memory cannot be turned on while nested virtualization is on, while a
PCI Express device is assigned, or while virtual NUMA is on (part 1; the other
direction, virtual NUMA while dynamic memory is on, is refused by ModifySystemSettings).
Every refusal is a failed job with 32773, the code a real host gave for dynamic memory
with virtual NUMA (R:mem_dynamic).
"""

from __future__ import annotations

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog, devices, pci
from hyperv_emulator.providers.base import Ctx
from hyperv_emulator.providers.catalog import DeviceKind
from hyperv_emulator.providers.checks import refuse
from hyperv_emulator.providers.devices import register_rules, settings_of_kind
from hyperv_emulator.providers.vms import Vm

NESTED_MIN_VERSION = (8, 0)


def nested_on(ctx: Ctx, vm: Vm) -> bool:
    found = settings_of_kind(ctx, vm, catalog.PROCESSOR)
    return bool(found and found[0].raw.get("exposevirtualizationextensions"))


class Processor(devices.Processor):
    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if "exposevirtualizationextensions" not in changed or not new.get(
                "ExposeVirtualizationExtensions"):
            return
        if vm.version < NESTED_MIN_VERSION:
            raise refuse(vm, f"ExposeVirtualizationExtensions: nested virtualization needs "
                             f"configuration version 8.0 or later; {vm.describe()} is "
                             f"version {vm.vssd.get('Version')} (upgrade it first)")
        memory = settings_of_kind(ctx, vm, catalog.MEMORY)
        if memory and memory[0].get("DynamicMemoryEnabled"):
            raise refuse(vm, "ExposeVirtualizationExtensions: nested virtualization needs "
                             "static memory; turn DynamicMemoryEnabled off first")


class Memory(devices.Memory):
    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if "dynamicmemoryenabled" not in changed or not new.get("DynamicMemoryEnabled"):
            return
        if nested_on(ctx, vm):
            raise refuse(vm, "dynamic memory cannot be enabled while nested virtualization is "
                             "on (ExposeVirtualizationExtensions); nested virtualization needs "
                             "static memory")
        if pci.assigned_devices(ctx, vm):
            raise refuse(vm, "dynamic memory cannot be enabled while a PCI Express device is "
                             "assigned to the virtual machine (Discrete Device Assignment)")


register_rules(catalog.PROCESSOR.name, Processor())
register_rules(catalog.MEMORY.name, Memory())
