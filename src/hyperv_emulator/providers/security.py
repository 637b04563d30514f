"""Msvm_SecurityService (vTPM, shielding, state encryption) and the host's guarded state.

Each VM has one Msvm_SecuritySettingData (`Microsoft:<VM>\\<GUID>`, made by
DefineSystem), found by its InstanceID prefix. The service's methods name it by an
embedded instance, matched by InstanceID; only the VM it names matters to
SetKeyProtector and SetSecurityPolicy (os-win passes one serialized instance, already
carrying the flags it wants, to all three calls).

Hyper-V's rules (reference notes §2.14, §4.5): security settings change only while
the VM is off; TpmEnabled, shielding, KSD, data protection and state encryption need a
key protector first (before one exists ModifySecuritySettings returns 4096 and the job
fails; after SetKeyProtector it returns 0); a vTPM needs a generation 2 VM with Secure
Boot (a key storage drive is the generation 1 equivalent); shielding needs the vTPM.
Once the vTPM has been initialized, the Secure Boot template cannot change; a shielded
VM starts only on a guarded host. The key protector, the previous one and the policy
are kept beside the setting (the store's aux), as a real host keeps them in the VM's
configuration rather than in WMI properties.
"""

from __future__ import annotations

from typing import Any

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import guards, seed
from hyperv_emulator.providers.base import (
    COMPLETED,
    FAILED,
    INVALID_PARAMETER,
    INVALID_STATE,
    Args,
    Ctx,
    Refused,
    method,
)
from hyperv_emulator.providers.checks import refuse, require_off
from hyperv_emulator.providers.devices import changed_values
from hyperv_emulator.providers.resources import VSMS, decode_all
from hyperv_emulator.providers.vms import (
    OFF,
    SAVED,
    Vm,
    guid_of_setting,
    load_vm,
)
from hyperv_emulator.schema.model import NS_HGS

SERVICE = "Msvm_SecurityService"
SETTING = "Msvm_SecuritySettingData"
SERVICE_NAME = "securitysvc"  # not captured from a real host: our choice
HGS_CONFIGURATION = "MSFT_HgsClientConfiguration"
# GetKeyProtector's answer for a VM without one: a 4-byte placeholder (reference notes
# §2.14); its bytes were not captured, so they are zeros.
NO_KEY_PROTECTOR = (0, 0, 0, 0)
# Flags that mean nothing without a key protector to seal the VM's secrets with.
NEED_KEY_PROTECTOR = ("TpmEnabled", "KsdEnabled", "ShieldingRequested",
                      "DataProtectionRequested", "EncryptStateAndVmMigrationTraffic")
_NOT_FLAGS = frozenset({"instanceid", "caption", "description"})
VTPM_MIN_VERSION = (7, 0)
TPM_LOCKED_TEMPLATE = ("Cannot modify the secure boot template ID property after the "
                       "virtual TPM is initialized.")


# -- the VM's security setting ------------------------------------------------------


def security_setting(ctx: Ctx, vm: Vm) -> Instance | None:
    if not ctx.has_class(SETTING):
        return None
    found = ctx.query(SETTING, vm=vm.guid, hint=("prefix", "InstanceID", vm.prefix + "\\"))
    return found[0] if found else None


def security_state(ctx: Ctx, vm: Vm) -> dict[str, Any]:
    """What the host keeps of a VM's vTPM: key protectors, policy, provisioning."""
    setting = security_setting(ctx, vm)
    return ctx.aux(setting) if setting is not None else {}


def _update_state(ctx: Ctx, setting: Instance, **changes: Any) -> dict[str, Any]:
    state = ctx.aux(setting)
    state.update(changes)
    ctx.set_aux(setting, state)
    return state


def mark_provisioned(ctx: Ctx, vm: Vm, pdk_name: str) -> None:
    setting = security_setting(ctx, vm)
    assert setting is not None
    _update_state(ctx, setting, provisioned=pdk_name)


def key_protector(ctx: Ctx, vm: Vm) -> bytes | None:
    text = security_state(ctx, vm).get("key_protector")
    return bytes.fromhex(text) if text else None


def _named_setting(ctx: Ctx, args: Args) -> tuple[Vm, Instance, Instance]:
    """(VM, stored setting, given setting) for the embedded SecuritySettingData."""
    given = decode_all(ctx, (args.get("SecuritySettingData"),)
                       if args.given("SecuritySettingData") else None, "SecuritySettingData")
    if not given or not given[0].is_a(SETTING):
        raise Refused(INVALID_PARAMETER, "SecuritySettingData must be an embedded "
                                         f"{SETTING} (the VM's, as read from the host)")
    requested = given[0]
    instance_id = requested.get("InstanceID")
    guid = guid_of_setting(instance_id)
    vm = load_vm(ctx, guid) if guid else None
    stored = security_setting(ctx, vm) if vm is not None else None
    if vm is None or stored is None or str(stored["InstanceID"]).upper() != \
            str(instance_id).upper():
        raise Refused(INVALID_PARAMETER, f"SecuritySettingData: InstanceID {instance_id!r} is "
                                         "not the security setting of a virtual machine of "
                                         "this host (it is matched by InstanceID)")
    return vm, stored, requested


def _bytes_arg(args: Args, name: str, vm: Vm) -> bytes:
    value = args.get(name)
    if not value:
        raise refuse(vm, f"{name} is empty; pass the bytes (as read from a shielding data "
                         "file, or a new local key protector)")
    return bytes(value)


# -- the security service -----------------------------------------------------------


@method(SERVICE, "SetKeyProtector")
def set_key_protector(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm, stored, _ = _named_setting(ctx, args)
    require_off(vm, "setting the key protector")
    new = _bytes_arg(args, "KeyProtector", vm)
    state = ctx.aux(stored)
    _update_state(ctx, stored, key_protector=new.hex(),
                  previous_key_protector=state.get("key_protector"))
    return COMPLETED


@method(SERVICE, "GetKeyProtector")
def get_key_protector(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm, _, _ = _named_setting(ctx, args)
    found = key_protector(ctx, vm)
    ctx.output("KeyProtector", tuple(found) if found else NO_KEY_PROTECTOR)
    return COMPLETED


@method(SERVICE, "RestoreLastKnownGoodKeyProtector")
def restore_key_protector(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm, stored, _ = _named_setting(ctx, args)
    require_off(vm, "restoring the last known good key protector")
    state = ctx.aux(stored)
    previous = state.get("previous_key_protector")
    if not previous:
        raise refuse(vm, f"{vm.describe()} has no earlier key protector to restore", code=FAILED)
    _update_state(ctx, stored, key_protector=previous,
                  previous_key_protector=state.get("key_protector"))
    return COMPLETED


@method(SERVICE, "SetSecurityPolicy")
def set_security_policy(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm, stored, _ = _named_setting(ctx, args)
    require_off(vm, "setting the security policy")
    policy = _bytes_arg(args, "SecurityPolicy", vm)
    _update_state(ctx, stored, policy=policy.hex())
    return COMPLETED


@method(SERVICE, "ModifySecuritySettings")
def modify_security_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm, stored, requested = _named_setting(ctx, args)
    changed = changed_values(stored, requested)
    for name in sorted(changed & _NOT_FLAGS):
        raise refuse(vm, f"{SETTING}.{stored.cls.props[name].name} cannot be changed")
    changed.discard("elementname")
    if not changed:
        return COMPLETED
    require_off(vm, "changing security settings (vTPM, shielding, encryption)")
    merged = stored.copy()
    for name in changed:
        merged.raw[name] = requested.raw[name]
    state = ctx.aux(stored)
    for flag in NEED_KEY_PROTECTOR:
        if flag.lower() in changed and merged.get(flag) and not state.get("key_protector"):
            raise refuse(vm, f"{flag} cannot be turned on: {vm.describe()} has no key "
                             "protector yet (set one with SetKeyProtector first)", code=FAILED)
    _check_combination(vm, merged)
    ctx.save(merged)
    if merged.get("TpmEnabled"):
        _update_state(ctx, stored, tpm_initialized=True)
    return COMPLETED


def _check_combination(vm: Vm, setting: Instance) -> None:
    flags = setting.raw  # by lower-case name: KsdEnabled is not a property before 14393
    if flags.get("tpmenabled"):
        if vm.generation != 2:
            raise refuse(vm, "TpmEnabled: a virtual TPM needs a generation 2 virtual machine "
                             "(generation 1 virtual machines use a key storage drive, "
                             "KsdEnabled)")
        if vm.version < VTPM_MIN_VERSION:
            raise refuse(vm, f"TpmEnabled: a virtual TPM needs configuration version 7.0 or "
                             f"later; {vm.describe()} is version {vm.vssd.get('Version')}")
        if not vm.vssd.get("SecureBootEnabled"):
            raise refuse(vm, "TpmEnabled: a virtual TPM needs Secure Boot on "
                             "(SecureBootEnabled of the virtual machine's settings)")
    if flags.get("ksdenabled") and vm.generation != 1:
        raise refuse(vm, "KsdEnabled: a key storage drive is for generation 1 virtual "
                         "machines; generation 2 virtual machines have a virtual TPM")
    if flags.get("shieldingrequested") and not flags.get("tpmenabled"):
        raise refuse(vm, "ShieldingRequested: a shielded virtual machine needs its virtual TPM "
                         "(TpmEnabled)")


# -- rules on other methods ---------------------------------------------------------


@guards.guard(VSMS, "ModifySystemSettings")
def _firmware_with_vtpm(ctx: Ctx, service: Instance | None, args: Args) -> None:
    """The vTPM ties the firmware down: Secure Boot stays on, the template stays put."""
    given = decode_all(ctx, (args.get("SystemSettings"),) if args.given("SystemSettings")
                       else None, "SystemSettings")
    if not given:
        return  # the provider names the problem
    guid = guid_of_setting(given[0].get("InstanceID"))
    vm = load_vm(ctx, guid) if guid else None
    setting = security_setting(ctx, vm) if vm is not None else None
    if vm is None or setting is None:
        return
    changed = changed_values(vm.vssd, given[0])
    if "secureboottemplateid" in changed and ctx.aux(setting).get("tpm_initialized"):
        old = str(vm.vssd.get("SecureBootTemplateId") or "").upper()
        new = str(given[0].get("SecureBootTemplateId") or "").strip("{}").upper()
        if old != new:
            raise refuse(vm, f"{vm.describe()} failed to modify settings. "
                             f"{TPM_LOCKED_TEMPLATE}", code=INVALID_STATE)
    if ("securebootenabled" in changed and not given[0].get("SecureBootEnabled")
            and setting.get("TpmEnabled")):
        raise refuse(vm, "SecureBootEnabled cannot be turned off while the virtual TPM is "
                         "enabled (TpmEnabled of the security settings)")


@guards.guard("Msvm_ComputerSystem", "RequestStateChange")
def _shielded_vms_start_on_guarded_hosts(ctx: Ctx, system: Instance | None,
                                         args: Args) -> None:
    if system is None or args.get("RequestedState") != 2 or ctx.profile.guarded:
        return
    vm = load_vm(ctx, str(system.get("Name", "")))
    if vm is None or vm.state not in (OFF, SAVED):
        return
    setting = security_setting(ctx, vm)
    if setting is not None and setting.get("ShieldingRequested"):
        raise Refused(FAILED, f"{vm.describe()} could not start: it is shielded, and this host "
                              "is not a guarded host (its Host Guardian Service attestation "
                              "has not passed), so the key protector cannot be unwrapped",
                      affected=[vm.cs], subject=f"'{vm.name}' failed to start.")


# -- the guarded host (root/Microsoft/Windows/Hgs) --------------------------------------

# MSFT_HgsClientConfiguration value maps were not captured; these are our choices
# (documented in docs/emulator.md).
HGS_MODE_HGS = 1
HGS_ATTESTATION_TPM = 2
HGS_STATUS_NOT_CONFIGURED = 0
HGS_STATUS_PASSED = 1


def hgs_configuration(ctx: Ctx) -> Instance:
    guarded = ctx.profile.guarded
    domain = f"hgs.{ctx.hostname.lower()}.example"
    return ctx.new(
        HGS_CONFIGURATION, NS_HGS, IsHostGuarded=guarded, Mode=HGS_MODE_HGS,
        KeyProtectionServerUrl=f"http://{domain}/KeyProtection" if guarded else "",
        AttestationServerUrl=f"http://{domain}/Attestation" if guarded else "",
        AttestationOperationMode=HGS_ATTESTATION_TPM if guarded else 0,
        AttestationStatus=HGS_STATUS_PASSED if guarded else HGS_STATUS_NOT_CONFIGURED,
        AttestationSubstatus=0,
    )


@method(HGS_CONFIGURATION, "Get")
def hgs_get(ctx: Ctx, target: Instance | None, args: Args) -> int:
    ctx.output("cmdletOutput", hgs_configuration(ctx))
    return COMPLETED


# -- seeding ------------------------------------------------------------------------


def _seed_service(ctx: Ctx) -> None:
    if not ctx.has_class(SERVICE):
        return
    service = ctx.create(ctx.new(
        SERVICE, CreationClassName=SERVICE, Name=SERVICE_NAME,
        SystemCreationClassName="Msvm_ComputerSystem", SystemName=ctx.hostname,
        ElementName="Microsoft Hyper-V Security Service", Caption="Security Service",
        Description="Service for configuring virtual machine security settings",
        EnabledState=2, EnabledDefault=2, RequestedState=12, HealthState=5,
        OperationalStatus=[2], StatusDescriptions=["OK"], Started=True, StartMode="Automatic",
    ))
    host = ctx.get(seed.host_cs_path(ctx))
    if host is not None and ctx.has_class("Msvm_HostedService"):
        ctx.link("Msvm_HostedService", Antecedent=host, Dependent=service)


seed.SEED_HOOKS.append(_seed_service)

