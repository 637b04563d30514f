"""Cinder volumes, the Nova side: connector, attach, detach, extend, spawn and destroy.

Nova's connection info -> `hyperv.volumes.parse_connection` (a bad one is refused naming
the key, with no retry) -> the rules place the volume (`rules.plan_volume_attach`: first
free slot of its bus, IDE only while off, SMB front-end QoS) -> the host connects it
(iSCSI login, FC LUN lookup, SMB mapping) -> the VM gets the drive, tagged with the volume
id. A failed attempt is undone (drive removed, volume disconnected) and tried again,
`[hyperv] volume_attach_retry_count` more times, `volume_attach_retry_interval` seconds
apart; the last failure leaves nothing attached or connected.

Device metadata (the metadata API's `devices`) is refreshed after every attach and
detach: each volume on the VM with its bus, address, serial (the volume id) and tags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from nova import exception, objects
from nova.virt import driver as virt_driver

from nova_hyperv import rules
from nova_hyperv.cim import CimError
from nova_hyperv.hyperv import HyperVError, Vm, VmNotFound, VmState
from nova_hyperv.hyperv.volumes import (
    HostVolume,
    HostVolumes,
    SmbVolume,
    VmDisks,
    VolumeConfigError,
    VolumeError,
    VolumeExtendUnsupported,
    VolumeTarget,
    parse_connection,
    read_vm_disks,
    vmdisks,
)
from nova_hyperv.ops.host import HostOps
from nova_hyperv.ops.metadata import VolumeAddress, with_volumes

__all__ = ["VolumeOps", "volume_id_of"]

LOG = logging.getLogger(__name__)
T = TypeVar("T")
Address = tuple[str, int, int]  # a drive's (bus, controller, slot)
MULTIPATH_FEATURE = "Multipath-IO"
_HOST_ERRORS = (HyperVError, CimError)


def volume_id_of(connection_info: Mapping[str, Any]) -> str:
    data = connection_info.get("data") or {}
    return str(connection_info.get("serial") or data.get("volume_id") or "")


def _volume_mappings(block_device_info: Any) -> list[Mapping[str, Any]]:
    return list(virt_driver.block_device_info_get_mapping(block_device_info))


class VolumeOps:
    def __init__(self, host: HostOps, conf: Any) -> None:
        self.host = host
        self.conf = conf
        self._volumes: HostVolumes | None = None

    @property
    def client(self) -> Any:
        return self.host.client

    @property
    def multipath(self) -> bool:
        return bool(self.conf.hyperv.use_multipath_io)

    @property
    def volumes(self) -> HostVolumes:
        if self._volumes is None:
            group = self.conf.hyperv
            self._volumes = HostVolumes(
                self.client.session, initiators=list(group.iscsi_initiator_list or ()),
                multipath=self.multipath, disk_retries=group.mounted_disk_query_retry_count,
                disk_interval=group.mounted_disk_query_retry_interval)
        return self._volumes

    # -- the connector ---------------------------------------------------------------

    def _check_multipath(self) -> None:
        if self.multipath and MULTIPATH_FEATURE not in \
                self.host.info().facts.server_features:
            raise exception.NovaException(
                message="[hyperv] use_multipath_io = True, but this host does not have the "
                f"{MULTIPATH_FEATURE} feature; install it (Install-WindowsFeature "
                "Multipath-IO) and let MPIO claim iSCSI / FC disks, or set "
                "use_multipath_io = False")

    def connector(self) -> dict[str, Any]:
        """What Cinder needs to export a volume to this host (os-brick's keys)."""
        self._check_multipath()
        found = self.volumes.host_connector()
        return {
            "ip": str(self.conf.my_block_storage_ip), "host": self.conf.host,
            "multipath": self.multipath, "enforce_multipath": True, "os_type": "win32",
            "platform": "x86_64", "do_local_attach": False, **found,
        }

    # -- connecting ------------------------------------------------------------------

    def _target(self, connection_info: Mapping[str, Any]) -> VolumeTarget:
        return parse_connection(connection_info, multipath=self.multipath)

    def _retrying(self, what: str, attempt: Callable[[], T], undo: Callable[[], object]) -> T:
        """attempt() up to retry_count + 1 times; undo() after each failure."""
        group = self.conf.hyperv
        tries = group.volume_attach_retry_count + 1
        for number in range(1, tries + 1):
            try:
                return attempt()
            except _HOST_ERRORS as exc:
                LOG.warning("%s: attempt %d of %d failed: %s", what, number, tries, exc)
                try:
                    undo()
                except _HOST_ERRORS as cleanup:
                    LOG.warning("%s: undoing the failed attempt failed: %s", what, cleanup)
                if number == tries:
                    raise
                time.sleep(group.volume_attach_retry_interval)
        raise AssertionError("unreachable")

    def connect_for_spawn(self, plan: rules.VmPlan,
                          block_device_info: Any) -> dict[str, HostVolume]:
        """Connect every volume of the plan; {volume id: what the VM takes}. All or
        nothing: on failure the volumes connected so far are disconnected."""
        infos = {volume_id_of(m.get("connection_info") or {}): m.get("connection_info")
                 for m in _volume_mappings(block_device_info)}
        targets: dict[str, VolumeTarget] = {}
        for disk in plan.disks:
            if disk.volume_id:
                info = infos.get(disk.volume_id)
                # InvalidInput: nova aborts the build with this text as the fault.
                if not info:
                    raise exception.InvalidInput(reason=f"volume {disk.volume_id} has no "
                                                 "connection info")
                try:
                    targets[disk.volume_id] = self._target(info)
                except VolumeConfigError as exc:
                    raise exception.InvalidInput(reason=str(exc)) from exc
        if targets:
            self._check_multipath()
        connected: dict[str, HostVolume] = {}
        try:
            for volume_id, target in targets.items():
                what = f"volume {volume_id}"
                with self.volumes.serialized(target):
                    connected[volume_id] = self._retrying(
                        what, lambda t=target, w=what: self.volumes.connect(t, w),
                        lambda t=target: self.volumes.disconnect(t))
        except BaseException:
            for volume_id in connected:
                with contextlib.suppress(*_HOST_ERRORS):
                    self.volumes.disconnect(targets[volume_id])
            raise
        return connected

    def disconnect_all(self, block_device_info: Any) -> None:
        """Let go of every volume of the instance (the VM is gone or never was)."""
        first: BaseException | None = None
        for mapping in _volume_mappings(block_device_info):
            info = mapping.get("connection_info") or {}
            try:
                target = self._target(info)
                with self.volumes.serialized(target):
                    self.volumes.disconnect(target)
            except VolumeConfigError as exc:
                LOG.warning("not disconnecting volume %s: %s", volume_id_of(info), exc)
            except _HOST_ERRORS as exc:
                LOG.error("disconnecting volume %s failed: %s", volume_id_of(info), exc)
                first = first or exc
        if first is not None:
            raise first

    # -- attach / detach --------------------------------------------------------------

    def _vm(self, instance: Any) -> Vm:
        try:
            return self.client.find_vm(instance.name, instance.uuid)
        except VmNotFound:
            raise exception.InstanceNotFound(instance_id=instance.uuid) from None

    def _bdm_tags(self, context: Any, instance: Any) -> dict[str, str | None]:
        bdms = objects.BlockDeviceMappingList.get_by_instance_uuid(context, instance.uuid)
        return {bdm.volume_id: bdm.tag for bdm in bdms if bdm.is_volume}

    def _update_metadata(self, context: Any, instance: Any, disks: VmDisks,
                         added: VolumeAddress | None = None, removed: str | None = None) -> None:
        tags = self._bdm_tags(context, instance)
        addresses = [VolumeAddress(d.serial, d.bus, d.controller, d.slot)
                     for d in disks.drives if d.serial in tags and d.serial != removed]
        if added is not None:
            addresses.append(added)
        # Reading device_metadata loads it when the instance came without it: the NIC
        # and local disk entries spawn wrote must stay.
        instance.device_metadata = with_volumes(
            instance.device_metadata, set(tags) | {removed} - {None}, addresses, tags)
        instance.save()

    def _put_on_vm(self, vm: Vm, disks: VmDisks, target: VolumeTarget, volume_id: str,
                   place: rules.DiskPlan) -> None:
        """Connect the volume and give the VM its drive at `place`, retried; a failed
        attempt leaves neither the drive nor the connection."""
        what = f"volume {volume_id}"

        def attempt() -> None:
            volume = self.volumes.connect(target, what)
            vmdisks.attach(self.client.session, self.client.service, vm.path, disks,
                           bus=place.bus, controller=place.controller, slot=place.slot,
                           serial=volume_id, volume=volume, iops_limit=place.iops_limit,
                           timeout=self.client.job_timeout)

        def undo() -> None:
            left = read_vm_disks(self.client.session, vm.guid).volume(volume_id)
            if left is not None:
                vmdisks.detach(self.client.session, self.client.service, left,
                               self.client.job_timeout)
            self.volumes.disconnect(target)

        with self.volumes.serialized(target):
            self._retrying(what, attempt, undo)

    def attach(self, context: Any, connection_info: Mapping[str, Any], instance: Any,
               disk_bus: str | None = None, device_type: str | None = None) -> None:
        volume_id = volume_id_of(connection_info)
        what = f"volume {volume_id}"

        def failed(reason: object) -> exception.VolumeAttachFailed:
            return exception.VolumeAttachFailed(volume_id=volume_id, reason=str(reason))

        try:
            target = self._target(connection_info)
        except VolumeConfigError as exc:
            raise failed(exc) from exc
        self._check_multipath()
        data = connection_info.get("data") or {}
        qos = data.get("qos_specs") or {}
        if qos and not isinstance(target, SmbVolume):
            LOG.warning("%s: front-end QoS specs %s are not applied to %s volumes; Hyper-V "
                        "limits IOPS of SMB volumes only (use back-end QoS)", what,
                        dict(qos), target.kind)
        tag = self._bdm_tags(context, instance).get(volume_id)
        request = rules.Volume(volume_id, target.kind, bus=disk_bus, tag=tag,
                               device_type=device_type, qos_specs=qos)
        vm = self._vm(instance)
        disks = read_vm_disks(self.client.session, vm.guid)
        if disks.volume(volume_id) is not None:
            LOG.info("%s is already attached to %s", what, instance.uuid)
            return
        try:
            place = rules.plan_volume_attach(request, 1 if disks.ide else 2, disks.occupied(),
                                             running=vm.state != VmState.OFF)
        except rules.RuleViolation as exc:
            raise failed(exc) from exc
        try:
            self._put_on_vm(vm, disks, target, volume_id, place)
        except _HOST_ERRORS as exc:
            raise failed(exc) from exc
        LOG.info("attached %s to %s at %s %d:%d", what, instance.uuid, place.bus,
                 place.controller, place.slot)
        self._update_metadata(context, instance, disks, added=VolumeAddress(
            volume_id, place.bus, place.controller, place.slot))

    def detach(self, context: Any, connection_info: Mapping[str, Any], instance: Any) -> None:
        volume_id = volume_id_of(connection_info)
        try:
            target: VolumeTarget | None = self._target(connection_info)
        except VolumeConfigError as exc:
            LOG.warning("volume %s: %s; removing its drive only", volume_id, exc)
            target = None
        disks = None
        try:
            try:
                vm = self.client.find_vm(instance.name, instance.uuid)
            except VmNotFound:
                LOG.info("detach of volume %s: no VM for %s; disconnecting only", volume_id,
                         instance.uuid)
            else:
                disks = read_vm_disks(self.client.session, vm.guid)
                drive = disks.volume(volume_id)
                if drive is not None:
                    vmdisks.detach(self.client.session, self.client.service, drive,
                                   self.client.job_timeout)
            if target is not None:
                with self.volumes.serialized(target):
                    self.volumes.disconnect(target)
        except _HOST_ERRORS as exc:
            raise exception.VolumeDetachFailed(volume_id=volume_id, reason=str(exc)) from exc
        if disks is not None:
            self._update_metadata(context, instance, disks, removed=volume_id)

    def extend(self, connection_info: Mapping[str, Any]) -> None:
        volume_id = volume_id_of(connection_info)
        try:
            disk = self.volumes.extend(self._target(connection_info), f"volume {volume_id}")
        except VolumeExtendUnsupported as exc:
            raise exception.ExtendVolumeNotSupported(message=str(exc)) from exc
        except VolumeError as exc:
            raise exception.NovaException(message=str(exc)) from exc
        LOG.info("volume %s: host disk %d refreshed; the guest sees the new size at its "
                 "next rescan", volume_id, disk.number)

    # -- a VM kept for a revert (cold migration and resize) -----------------------------

    def release(self, vm: Vm, block_device_info: Any) -> dict[str, Address]:
        """Take the instance's volumes off its (off) VM and let go of them on this host:
        nova ends their connections to this host right after migrate_disk_and_power_off,
        and the VM kept for a revert must not hold host disks that are about to go.
        {volume id: (bus, controller, slot)} where the VM had them, for `restore`. All or
        nothing: if one cannot be released, those already released are given back."""
        mappings = _volume_mappings(block_device_info)
        if not mappings:
            return {}
        disks = read_vm_disks(self.client.session, vm.guid)
        released: dict[str, Address] = {}
        done: list[Mapping[str, Any]] = []
        try:
            for mapping in mappings:
                info = mapping.get("connection_info") or {}
                volume_id = volume_id_of(info)
                drive = disks.volume(volume_id)
                if drive is not None:
                    vmdisks.detach(self.client.session, self.client.service, drive,
                                   self.client.job_timeout)
                    released[volume_id] = (drive.bus, drive.controller, drive.slot)
                done.append(mapping)
                try:
                    target = self._target(info)
                except VolumeConfigError as exc:
                    LOG.warning("not disconnecting volume %s: %s", volume_id, exc)
                    continue
                with self.volumes.serialized(target):
                    self.volumes.disconnect(target)
        except BaseException:
            with contextlib.suppress(Exception):
                self.restore(vm, {"block_device_mapping": done}, released)
            raise
        LOG.info("VM %s: volumes %s taken off and disconnected", vm.name,
                 ", ".join(released) or "(none attached)")
        return released

    def restore(self, vm: Vm, block_device_info: Any, addresses: Mapping[str, Address]) -> None:
        """Connect the instance's volumes again and put each on the (off) VM where it
        was (`addresses`, from `release`), else in the first free slot of its bus. All
        or nothing: on failure those put back are released again."""
        mappings = _volume_mappings(block_device_info)
        if not mappings:
            return
        disks = read_vm_disks(self.client.session, vm.guid)
        generation = 1 if disks.ide else 2
        occupied = disks.occupied()
        restored: list[Mapping[str, Any]] = []
        try:
            for mapping in mappings:
                info = mapping.get("connection_info") or {}
                volume_id = volume_id_of(info)
                if disks.volume(volume_id) is not None:
                    continue
                try:
                    target = self._target(info)
                except VolumeConfigError as exc:
                    raise exception.InvalidInput(reason=str(exc)) from exc
                where = addresses.get(volume_id)
                qos = (info.get("data") or {}).get("qos_specs") or {}
                place = rules.plan_volume_attach(
                    rules.Volume(volume_id, target.kind, bus=where[0] if where else None,
                                 qos_specs=qos), generation, occupied, running=False)
                if where is not None and where not in occupied:
                    place = dataclasses.replace(place, bus=where[0], controller=where[1],
                                                slot=where[2])
                self._put_on_vm(vm, disks, target, volume_id, place)
                occupied.append((place.bus, place.controller, place.slot))
                restored.append(mapping)
        except BaseException:
            with contextlib.suppress(Exception):
                self.release(vm, {"block_device_mapping": restored})
            raise
        LOG.info("VM %s: volumes connected and attached again", vm.name)

    # -- after a host restart ---------------------------------------------------------

    def fix_disk_paths(self, instance: Any, block_device_info: Any) -> Vm | None:
        """Re-point passthrough drives whose volume is another host disk number now (a
        host reboot renumbers disks), logging in again where the host has not. Returns
        the VM when it had to be found (the caller starts it without a second lookup)."""
        targets: list[tuple[str, VolumeTarget]] = []
        for mapping in _volume_mappings(block_device_info):
            info = mapping.get("connection_info") or {}
            if info.get("driver_volume_type") in ("iscsi", "fibre_channel"):
                with contextlib.suppress(VolumeConfigError):
                    targets.append((volume_id_of(info), self._target(info)))
        if not targets:
            return None
        vm = self._vm(instance)
        disks = read_vm_disks(self.client.session, vm.guid)
        for volume_id, target in targets:
            drive = disks.volume(volume_id)
            if drive is None or drive.kind != "passthrough":
                continue
            volume = self.volumes.connect(target, f"volume {volume_id}")
            if drive.resource is None or not vmdisks.same_resource(drive.resource,
                                                                  volume.resource):
                LOG.info("volume %s of %s is host disk %s now; re-pointing its drive",
                         volume_id, instance.uuid, volume.disk.number if volume.disk else "?")
                vmdisks.repoint(self.client.session, self.client.service, drive,
                                volume.resource, self.client.job_timeout)
        return vm
