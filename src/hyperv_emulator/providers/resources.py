"""Msvm_VirtualSystemManagementService: Add / Modify / RemoveResourceSettings and the
port-feature methods.

Add: each embedded RASD must say what it is (ResourceType and ResourceSubType, or
OtherResourceType); a bare instance is refused with 32773 as on a real host. Any
InstanceID it carries (a template's `...\\Default`) is ignored and Hyper-V's own is
assigned; unset properties take the kind's defaults. Modify: each embedded RASD is
matched by InstanceID; NULL or omitted properties stay as they are (libvirt sends
partial instances), an empty array is a value. Successful adds and modifies return 0
synchronously, removes run as a job; a refusal is a job that ends in state 10
(reference notes §4.4), except an invalid state which is 32775.
"""

from __future__ import annotations

from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.jobs import start_job
from hyperv_emulator.paths import parse_path
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import (
    COMPLETED,
    INVALID_PARAMETER,
    JOB_STARTED,
    Args,
    Ctx,
    Refused,
    method,
    new_guid,
)
from hyperv_emulator.providers.catalog import kind_of
from hyperv_emulator.providers.checks import check_values, refuse
from hyperv_emulator.providers.devices import (
    changed_values,
    from_template,
    link_to_vm,
    merge,
    remove_setting,
    rules_for,
)
from hyperv_emulator.providers.seed import kind_class
from hyperv_emulator.providers.vms import Vm, load_vm, vm_of_configuration, vm_of_setting

VSMS = "Msvm_VirtualSystemManagementService"
RASD_BASE = "CIM_ResourceAllocationSettingData"
FEATURE_BASE = "Msvm_EthernetSwitchPortFeatureSettingData"


def decode_all(ctx: Ctx, texts: tuple[str, ...] | None, what: str,
               vm: Vm | None = None) -> list[Instance]:
    decoded = []
    for index, text in enumerate(texts or ()):
        try:
            decoded.append(ctx.decode(text))
        except CimError as exc:
            raise refuse(vm, f"{what}[{index}]: {exc.message}") from None
    return decoded


def add_settings(ctx: Ctx, vm: Vm, given: list[Instance]) -> list[Instance]:
    """Add devices to a VM with Hyper-V's rules; returns the created settings."""
    created = []
    for index, setting in enumerate(given):
        if not setting.is_a(RASD_BASE):
            raise refuse(vm, f"ResourceSettings[{index}] is a {setting.class_name}, not a "
                             "resource allocation setting")
        kind = kind_of(setting)
        if kind is None:
            label = setting.get("ResourceSubType") or setting.get("OtherResourceType")
            raise refuse(vm, f"cannot add resource: ResourceSettings[{index}] "
                             f"({setting.class_name}) has ResourceType "
                             f"{setting.get('ResourceType')!r} and subtype {label!r}, which "
                             "is no device Hyper-V knows; start from the device's \\Default "
                             "template")
        class_name = kind_class(ctx, kind)
        if class_name is None:
            raise refuse(vm, f"cannot add resource: this host has no {kind.type_label}")
        if setting.class_name.lower() != class_name.lower():
            raise refuse(vm, f"cannot add resource: a {kind.type_label} is described by "
                             f"{class_name}, not {setting.class_name}")
        rules = rules_for(kind)
        if not rules.addable:
            rules.add(ctx, vm, kind, setting)  # raises the kind's refusal
        fresh = from_template(ctx, kind, class_name, setting)
        rules.add(ctx, vm, kind, fresh)
        check_values(fresh, affected=[vm.cs])
        ctx.create(fresh, vm=vm.guid)
        link_to_vm(ctx, vm, fresh)
        rules.added(ctx, vm, kind, fresh)
        created.append(fresh)
    return created


@method(VSMS, "AddResourceSettings")
def add_resource_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm = vm_of_configuration(ctx, args.get("AffectedConfiguration"), "AffectedConfiguration")
    given = decode_all(ctx, args.get("ResourceSettings"), "ResourceSettings", vm)
    if not given:
        raise refuse(vm, "ResourceSettings is empty: nothing to add")
    created = add_settings(ctx, vm, given)
    ctx.output("ResultingResourceSettings", [ctx.path(s) for s in created])
    return COMPLETED


def _stored(ctx: Ctx, setting: Instance, base: str) -> Instance | None:
    instance_id = setting.get("InstanceID")
    if not instance_id:
        return None
    found = ctx.query(base, hint=("eq", "InstanceID", instance_id))
    return found[0] if found else None


def _modify_matched(ctx: Ctx, texts: tuple[str, ...] | None, base: str, what: str) -> list[
        str]:
    """Modify stored settings matched by InstanceID: given values over stored ones."""
    given = decode_all(ctx, texts, what)
    if not given:
        raise Refused(INVALID_PARAMETER, f"{what} is empty: nothing to modify")
    results = []
    for index, setting in enumerate(given):
        stored = _stored(ctx, setting, base)
        vm = vm_of_setting(ctx, stored) if stored is not None else None
        if stored is None or vm is None:
            raise refuse(vm, f"{what}[{index}]: no setting of a virtual machine has InstanceID "
                             f"{setting.get('InstanceID')!r} (Modify matches by InstanceID)")
        if stored.class_name.lower() != setting.class_name.lower():
            raise refuse(vm, f"{what}[{index}]: {stored['InstanceID']} is a "
                             f"{stored.class_name}, not a {setting.class_name}")
        changed = changed_values(stored, setting)
        merged = merge(stored, setting, changed)
        kind = kind_of(stored)
        if kind is not None:
            rules_for(kind).modify(ctx, vm, kind, stored, merged, changed)
        elif "instanceid" in changed:
            raise refuse(vm, f"{what}[{index}]: InstanceID cannot change")
        check_values(merged, changed, affected=[vm.cs])
        ctx.save(merged)
        results.append(ctx.path(merged))
    return results


@method(VSMS, "ModifyResourceSettings")
def modify_resource_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    ctx.output("ResultingResourceSettings", _modify_matched(
        ctx, args.get("ResourceSettings"), RASD_BASE, "ResourceSettings"))
    return COMPLETED


def _resolve_refs(ctx: Ctx, paths: tuple[str, ...] | None, base: str, what: str) -> list[
        tuple[Vm, Instance]]:
    if not paths:
        raise Refused(INVALID_PARAMETER, f"{what} is empty: nothing to remove")
    found = []
    for index, text in enumerate(paths):
        try:
            setting = ctx.get(parse_path(text))
        except CimError:
            setting = None
        vm = vm_of_setting(ctx, setting) if setting is not None else None
        if setting is None or vm is None or not setting.is_a(base):
            raise Refused(INVALID_PARAMETER, f"{what}[{index}] {text!r} is not a device of a "
                                             "virtual machine")
        found.append((vm, setting))
    return found


@method(VSMS, "RemoveResourceSettings")
def remove_resource_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    targets = _resolve_refs(ctx, args.get("ResourceSettings"), RASD_BASE, "ResourceSettings")
    touched: dict[str, Vm] = {}
    for vm, setting in targets:
        vm = load_vm(ctx, vm.guid) or vm  # an earlier removal may have changed its VSSD
        if ctx.get(setting.path) is None:
            continue  # already gone with its parent
        kind = kind_of(setting)
        if kind is not None:
            rules_for(kind).remove(ctx, vm, kind, setting)
        remove_setting(ctx, vm, setting)
        touched[vm.guid] = vm
    start_job(ctx, 32, [vm.cs for vm in touched.values()])
    return JOB_STARTED


# -- port features ------------------------------------------------------------------


def _connection(ctx: Ctx, path: str | None) -> tuple[Vm, Instance]:
    if not path:
        raise Refused(INVALID_PARAMETER, "AffectedConfiguration is required")
    try:
        connection = ctx.get(parse_path(path))
    except CimError:
        connection = None
    vm = vm_of_setting(ctx, connection) if connection is not None else None
    if connection is None or vm is None or kind_of(connection) is not catalog.ETHERNET_CONNECTION:
        raise Refused(INVALID_PARAMETER, f"AffectedConfiguration {path!r} is not the Ethernet "
                                         "connection of a virtual machine's network adapter")
    return vm, connection


@method(VSMS, "AddFeatureSettings")
def add_feature_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm, connection = _connection(ctx, args.get("AffectedConfiguration"))
    given = decode_all(ctx, args.get("FeatureSettings"), "FeatureSettings", vm)
    if not given:
        raise refuse(vm, "FeatureSettings is empty: nothing to add")
    prefix = connection["InstanceID"] + "\\"
    existing = ctx.query(FEATURE_BASE, vm=vm.guid, hint=("prefix", "InstanceID", prefix))
    created = []
    for index, feature in enumerate(given):
        if not feature.is_a(FEATURE_BASE) or feature.cls.definition.abstract:
            raise refuse(vm, f"FeatureSettings[{index}] is a {feature.class_name}, not a switch "
                             "port feature")
        lowered = feature.class_name.lower()
        if lowered not in catalog.MULTI_INSTANCE_FEATURES and any(
                e.class_name.lower() == lowered for e in existing + created):
            raise refuse(vm, f"the port already has a {feature.class_name}; modify it instead")
        feature_id = catalog.FEATURES.get(feature.class_name, catalog.our_guid(lowered))
        fresh = feature.copy()
        fresh["InstanceID"] = f"{prefix}{feature_id}\\{new_guid()}"
        check_values(fresh, affected=[vm.cs])
        ctx.create(fresh, vm=vm.guid)
        created.append(fresh)
    ctx.output("ResultingFeatureSettings", [ctx.path(f) for f in created])
    return COMPLETED


@method(VSMS, "ModifyFeatureSettings")
def modify_feature_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    ctx.output("ResultingFeatureSettings", _modify_matched(
        ctx, args.get("FeatureSettings"), FEATURE_BASE, "FeatureSettings"))
    return COMPLETED


@method(VSMS, "RemoveFeatureSettings")
def remove_feature_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    targets = _resolve_refs(ctx, args.get("FeatureSettings"), FEATURE_BASE, "FeatureSettings")
    touched: dict[str, Vm] = {}
    for vm, feature in targets:
        ctx.delete(feature)
        touched[vm.guid] = vm
    start_job(ctx, 32, [vm.cs for vm in touched.values()])
    return JOB_STARTED
