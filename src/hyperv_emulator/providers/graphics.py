"""RemoteFX: the host's GPUs and 3D video pool, and the synthetic 3D display controller.

RemoteFX vGPU exists on Windows Server 2012 R2 and 2016 only; Microsoft removed it from
2019 (10.0.17763) on. There, and on any host without a GPU enabled for RemoteFX (the
profile's `remotefx_gpus`, usable when the RDS-Virtualization role service is
installed), adding the 3D controller fails like on a real host without a RemoteFX GPU:
job state 10, ErrorCode 32773 (reference notes §2.12, R:remotefx_3d).

The controller's limits follow the host version (os-win-wmi-usage.md §2.7): 2012 R2
offers resolutions up to 2560x1600 with 4/4/3/2/1 monitors, 2016 adds 3840x2160 and
allows 8/8/4/4/2/1 monitors and a VRAM size (64, 128, 256, 512 MiB or 1 GiB). Generation
2 VMs get RemoteFX from 2016 on. The VM must be off to add, change or remove it; it
replaces the synthetic display controller (which must be removed first, as os-win
does), and on generation 1 the S3 controller's Address moves between the two values
os-win writes ("5353,00000000,00" normally, "02C1,00000000,01" with RemoteFX).
"""

from __future__ import annotations

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog, devices, seed
from hyperv_emulator.providers.base import (
    COMPLETED,
    INVALID_PARAMETER,
    NOT_SUPPORTED_VENDOR,
    Args,
    Ctx,
    Refused,
    method,
)
from hyperv_emulator.providers.catalog import DeviceKind, our_guid
from hyperv_emulator.providers.checks import refuse, require_off
from hyperv_emulator.providers.devices import DeviceRules, register_rules, settings_of_kind
from hyperv_emulator.providers.vms import Vm

GPU = "Msvm_Physical3dGraphicsProcessor"
POOL = "Msvm_Synth3dVideoPool"
SERVICE = "Msvm_Synthetic3DService"
RDS_VIRTUALIZATION = "RDS-Virtualization"
REMOTEFX_REMOVED = 17763  # Windows Server 2019: no RemoteFX from here on
GEN2_REMOTEFX = 14393  # Windows Server 2016: RemoteFX for generation 2 VMs
S3_ADDRESS = "5353,00000000,00"
S3_ADDRESS_REMOTEFX = "02C1,00000000,01"
MIB = 2**20
VRAM_SIZES = tuple(size * MIB for size in (64, 128, 256, 512, 1024))
# MaximumScreenResolution -> most monitors (the keys are the resolutions offered).
MAX_MONITORS_2012R2 = {0: 4, 1: 4, 2: 3, 3: 2, 4: 1}
MAX_MONITORS_2016 = {0: 8, 1: 8, 2: 4, 3: 4, 4: 2, 5: 1}
RESOLUTIONS = {0: "1024x768", 1: "1280x1024", 2: "1600x1200", 3: "1920x1200",
               4: "2560x1600", 5: "3840x2160"}


def remotefx_offered(ctx: Ctx) -> bool:
    """The host's Windows has RemoteFX and its Remote Desktop Virtualization Host role."""
    return ctx.build < REMOTEFX_REMOVED and RDS_VIRTUALIZATION in ctx.profile.server_features


def remotefx_gpus(ctx: Ctx) -> list[Instance]:
    return ctx.query(GPU, where=lambda gpu: bool(gpu.get("EnabledForVirtualization")))


def max_monitors(ctx: Ctx) -> dict[int, int]:
    return MAX_MONITORS_2016 if ctx.build >= 10240 else MAX_MONITORS_2012R2


class Synthetic3DDisplay(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "maximummonitors", "maximumscreenresolution",
                         "vramsizebytes"})
    off_only = frozenset({"maximummonitors", "maximumscreenresolution", "vramsizebytes"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        if not remotefx_offered(ctx) or not remotefx_gpus(ctx):
            if ctx.build >= REMOTEFX_REMOVED:
                why = ("RemoteFX 3D video is not available on Windows Server 2019 and later "
                       "(use Discrete Device Assignment to give a virtual machine a GPU)")
            elif not remotefx_offered(ctx):
                why = "the Remote Desktop Virtualization Host role service is not installed"
            else:
                why = "no GPU of this host is enabled for RemoteFX"
            raise refuse(vm, f"cannot add resource: the RemoteFX 3D video adapter needs a GPU "
                             f"enabled for RemoteFX; {why}")
        if vm.generation == 2 and ctx.build < GEN2_REMOTEFX:
            raise refuse(vm, "cannot add resource: RemoteFX supports generation 2 virtual "
                             "machines from Windows Server 2016 on (generation 1 only here)")
        require_off(vm, "adding a RemoteFX 3D video adapter")
        if settings_of_kind(ctx, vm, kind):
            raise refuse(vm, "cannot add resource: the virtual machine already has a RemoteFX "
                             "3D video adapter (modify it instead)")
        if settings_of_kind(ctx, vm, catalog.SYNTHETIC_DISPLAY):
            raise refuse(vm, "cannot add resource: remove the synthetic display controller "
                             "first; the RemoteFX 3D video adapter replaces it")
        self.check_limits(ctx, vm, setting)
        setting["InstanceID"] = f"{vm.prefix}\\{catalog.SYNTH3D_POOL}"

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        self.check_limits(ctx, vm, new)

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "removing the RemoteFX 3D video adapter")

    def check_limits(self, ctx: Ctx, vm: Vm, setting: Instance) -> None:
        table = max_monitors(ctx)
        resolution = setting.get("MaximumScreenResolution", 0)
        if resolution not in table:
            offered = ", ".join(f"{k} ({RESOLUTIONS[k]})" for k in table)
            raise refuse(vm, f"MaximumScreenResolution {resolution} is not a RemoteFX "
                             f"resolution of this host; offered: {offered}")
        monitors = setting.get("MaximumMonitors", 1)
        if not 1 <= monitors <= table[resolution]:
            raise refuse(vm, f"MaximumMonitors {monitors}: RemoteFX at "
                             f"{RESOLUTIONS[resolution]} drives 1 to {table[resolution]} "
                             "monitors on this host")
        vram = setting.raw.get("vramsizebytes")  # not a property before 10240
        if vram is not None and vram not in VRAM_SIZES:
            raise refuse(vm, f"VRAMSizeBytes {vram} is not a RemoteFX VRAM size; use 64, 128, "
                             "256 or 512 MiB or 1 GiB, in bytes")


class S3Display(devices.S3Display):
    """The generation 1 S3 controller's Address: the normal one or the RemoteFX one."""

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        address = new.get("Address")
        if "address" in changed and address not in (S3_ADDRESS, S3_ADDRESS_REMOTEFX):
            raise refuse(vm, f"Address {address!r} of the S3 display controller must be "
                             f"{S3_ADDRESS!r} (normal) or {S3_ADDRESS_REMOTEFX!r} (with a "
                             "RemoteFX 3D video adapter)")


register_rules(catalog.SYNTHETIC_3D_DISPLAY.name, Synthetic3DDisplay())
register_rules(catalog.S3_DISPLAY.name, S3Display())


# -- the host's GPUs and the synthetic 3D service ----------------------------------


def _named_gpu(ctx: Ctx, args: Args) -> Instance:
    path = args.get("PhysicalGPU")
    gpu = ctx.get(path) if path else None
    if gpu is None or not gpu.is_a(GPU):
        raise Refused(INVALID_PARAMETER, f"PhysicalGPU {path!r} is not a GPU of this host")
    return gpu


def _set_gpu(ctx: Ctx, args: Args, enabled: bool) -> int:
    gpu = _named_gpu(ctx, args)
    if enabled and not remotefx_offered(ctx):
        raise Refused(NOT_SUPPORTED_VENDOR, "RemoteFX is not available on this host (Windows "
                                            "Server 2019 and later, or no RDS-Virtualization)",
                      affected=[gpu])
    if enabled and not gpu.get("CompatibleForVirtualization", True):
        raise Refused(INVALID_PARAMETER, f"GPU {gpu.get('Name')!r} cannot be used for RemoteFX "
                                         "(it needs DirectX 11 and a WDDM 1.2 driver)",
                      affected=[gpu])
    gpu["EnabledForVirtualization"] = enabled
    ctx.save(gpu)
    return COMPLETED


@method(SERVICE, "EnableGPUForVirtualization")
def enable_gpu(ctx: Ctx, service: Instance | None, args: Args) -> int:
    return _set_gpu(ctx, args, True)


@method(SERVICE, "DisableGPUForVirtualization")
def disable_gpu(ctx: Ctx, service: Instance | None, args: Args) -> int:
    return _set_gpu(ctx, args, False)


def _seed(ctx: Ctx) -> None:
    offered = remotefx_offered(ctx)
    gpus = ctx.profile.remotefx_gpus
    for pool in ctx.query(POOL):
        ctx.set(pool, Is3dVideoSupported=offered, IsGPUCapable=bool(gpus), IsSLATCapable=True,
                DirectXVersion=max((g.directx_version for g in gpus), default=""),
                RequiredMinimumDirectXVersion="11.0")
        ctx.save(pool)
    host = ctx.get(seed.host_cs_path(ctx))
    for index, profile_gpu in enumerate(gpus):
        memory = profile_gpu.video_memory_mb * MIB
        gpu = ctx.create(ctx.new(
            GPU, CreationClassName=GPU,
            DeviceID=f"Microsoft:{our_guid(f'gpu {index} {profile_gpu.name}')}",
            SystemCreationClassName="Msvm_ComputerSystem", SystemName=ctx.hostname,
            Name=profile_gpu.name, ElementName=profile_gpu.name, Caption=profile_gpu.name,
            EnabledForVirtualization=offered, CompatibleForVirtualization=offered,
            DirectXVersion=profile_gpu.directx_version, PixelShaderVersion="5.0",
            DriverVersion=profile_gpu.driver_version, DriverProvider="Emulated",
            DriverModelVersion="2.0", TotalVideoMemory=memory, AvailableVideoMemory=memory,
            DedicatedVideoMemory=memory, DedicatedSystemMemory=0, SharedSystemMemory=0,
            AdapterIndexID=index, GPUID=f"GPU{index}", EnabledState=2, HealthState=5,
            OperationalStatus=[2],
        ))
        if host is not None:
            ctx.link("Msvm_SystemDevice", GroupComponent=host, PartComponent=gpu)
    if ctx.has_class(SERVICE):
        service = ctx.create(ctx.new(
            SERVICE, CreationClassName=SERVICE, Name="synth3d",
            SystemCreationClassName="Msvm_ComputerSystem", SystemName=ctx.hostname,
            ElementName="Microsoft Synthetic 3D Service", Caption="Synthetic 3D Service",
            EnabledState=2, EnabledDefault=2, RequestedState=12, HealthState=5,
            OperationalStatus=[2], Started=True, StartMode="Automatic",
        ))
        if host is not None and ctx.has_class("Msvm_HostedService"):
            ctx.link("Msvm_HostedService", Antecedent=host, Dependent=service)


seed.SEED_HOOKS.append(_seed)
