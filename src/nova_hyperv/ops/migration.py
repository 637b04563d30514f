"""Cold migration and resize between Hyper-V hosts, and what is left of them.

Nova's flow, and this driver's part in it (docs/driver.md, "Cold migration and resize"):

- source, `migrate_disk_and_power_off`: refuse a flavor that would shrink a disk and a
  VM with a vTPM (before anything changes), power off, take the Cinder volumes off the
  VM and disconnect them (nova ends their connections here next), move the files aside
  into `<uuid>_revert` with a record of where the volumes were. The VM stays defined,
  off, until the resize is confirmed or reverted: a revert gives back the very same VM
  (its id, devices, assigned PCI device, its volumes at their slots). Any failure puts
  the files, the volumes and the power state back and raises InstanceFaultRollback: the
  instance is as it was.
- destination, `finish_migration`: copy the files from the source's revert folder, plan
  the VM for the new flavor (`rules.plan_resize`: the whole VM, so RemoteFX, PCI
  devices, QoS, vNUMA and dynamic memory follow the new flavor), reconnect a
  differencing root to this host's image cache, grow / create / drop disks, build the
  VM, start it. Hyper-V's Export/ImportSystemDefinition are not used: the plan is the
  VM's whole definition. A failure removes the VM; the copied disks stay, complete, so
  the hard reboot Nova advises after a failed resize builds the VM again from them.
- source, `confirm_migration`: remove the kept VM and the revert folder.
- destination `destroy` (Nova's revert_resize), then source `finish_revert_migration`:
  the files go back, the volumes are connected and put back where they were, the kept
  VM starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
from typing import Any

from nova import exception, objects
from oslo_serialization import jsonutils

import vhdfile
from nova_hyperv import rules
from nova_hyperv.conf import EMULATED_SCHEME
from nova_hyperv.hyperv import RequestedState, Vm, VmNotFound, VmState
from nova_hyperv.ops import configdrive, instance_disks, instance_files
from nova_hyperv.ops import request as nova_request
from nova_hyperv.ops.errors import fault_text, nova_errors, translate
from nova_hyperv.ops.images import disk_math_for
from nova_hyperv.ops.instance_disks import RootFile
from nova_hyperv.ops.instance_files import REVERT_SUFFIX, SourceFiles
from nova_hyperv.ops.network import check_vif_types
from nova_hyperv.ops.vmops import InstanceOps
from nova_hyperv.ops.volumes import Address

__all__ = ["SOURCE_KEY", "MigrationOps"]

LOG = logging.getLogger(__name__)

# Where the source left the files (SourceFiles.location_json: no file names, so that it
# fits nova's 255-character values), kept in the instance's system metadata from the
# migration until its confirm or revert: a hard reboot on the destination after a failed
# copy pulls them from there (compute-hyperv kept the same in `backup_location`).
SOURCE_KEY = "hyperv_resize_source"
SYSTEM_METADATA_MAX = 255  # nova's instance_system_metadata.value is a String(255)
# In the source's revert folder: where the kept VM had its volumes, and the instance's
# device metadata as they were there (`_write_kept`).
KEPT_VM_FILE = "kept-vm.json"


def _image_id(instance: Any, image_meta: Any) -> str | None:
    if image_meta is not None and "id" in image_meta and image_meta.id:
        return str(image_meta.id)
    return instance.image_ref or None


class MigrationOps:
    def __init__(self, vmops: InstanceOps, conf: Any) -> None:
        self.vmops = vmops
        self.host = vmops.host
        self.conf = conf
        if not conf.hyperv.move_disks_on_cold_migration:
            LOG.warning("[hyperv] move_disks_on_cold_migration = False is not honoured: "
                        "cold migration and resize always move the instance's files into "
                        "the destination host's instances_path")

    @property
    def client(self) -> Any:
        return self.host.client

    def revert_dir(self, instance: Any) -> str:
        return self.vmops.instance_dir(instance) + REVERT_SUFFIX

    # -- source -------------------------------------------------------------------

    def migrate_disk_and_power_off(self, context: Any, instance: Any, flavor: Any,
                                   block_device_info: Any, timeout: int,
                                   retry_interval: int) -> str:
        """Power off, let go of the volumes and set the files aside; the destination's
        `disk_info`."""
        directory, revert = self.vmops.instance_dir(instance), self.revert_dir(instance)
        self._check_movable(instance)
        vm = self.vmops.find(instance)
        try:
            root, disks = instance_disks.read_disks(directory)
            rules.check_resize_disks(
                disks, root.layout() if root else None, nova_request.flavor(flavor),
                disk_math=root.disk_math() if root else rules.default_disk_math)
        except rules.RuleViolation as violation:
            raise exception.InstanceFaultRollback(inner_exception=exception.CannotResizeDisk(
                reason=fault_text(violation))) from violation
        except (vhdfile.VhdError, OSError) as error:  # nothing changed: the server stays
            raise exception.InstanceFaultRollback(inner_exception=exception.NovaException(
                message=f"cannot read the instance's disks in {directory}: {error}")
            ) from error
        running = vm.state != VmState.OFF
        released: dict[str, Address] = {}
        try:
            self.vmops.power_off(instance, timeout, retry_interval, vm=vm)
            # nova ends the volumes' connections to this host next: the kept VM lets go
            released = self.vmops.volumes.release(vm, block_device_info)
            shutil.rmtree(revert, ignore_errors=True)  # a stale one, from a failed move
            moved = instance_files.move_files(directory, revert)
            _write_kept(revert, released, instance)
        except Exception as error:
            self._undo_migrate(instance, error, running, vm, block_device_info, released)
            raise exception.InstanceFaultRollback(
                inner_exception=translate(error, instance)) from error
        LOG.info("%s: VM off, files set aside in %s for the destination", instance.uuid,
                 revert)
        source = SourceFiles(host=self.host.info().hostname,
                             instances_path=self.host.instances_path,
                             folder=os.path.basename(revert), files=tuple(moved))
        location = source.location_json()
        if len(location) <= SYSTEM_METADATA_MAX:  # nova saves the instance next
            instance.system_metadata[SOURCE_KEY] = location
        else:
            LOG.warning("%s: the source location (%d characters) does not fit nova's "
                        "system metadata; a failed copy on the destination then cannot "
                        "be recovered by a hard reboot", instance.uuid, len(location))
        return source.to_json()

    def _check_movable(self, instance: Any) -> None:
        """A vTPM's state (its keys, sealed to the VM's key protector) lives with the VM
        on this host; the destination builds a new VM, which cannot have it: refused
        before anything changes."""
        key = nova_request.vtpm_property(instance)
        if key is not None:
            raise exception.InstanceFaultRollback(
                inner_exception=exception.OperationNotSupportedForVTPM(message=(
                    f"image property {key} = required: cold migration and resize of a VM "
                    "with a virtual TPM are not supported; its TPM state and key protector "
                    "stay with the VM on this host, and the VM the destination would build "
                    "could not unseal the guest's keys. The server stays here, unchanged")))

    def _undo_migrate(self, instance: Any, error: Exception, running: bool, vm: Vm,
                      block_device_info: Any, released: dict[str, Address]) -> None:
        """Put the files and the volumes back and the VM in its power state; if that
        fails too, the instance is in trouble (ERROR), not as it was: raise the first
        error."""
        directory, revert = self.vmops.instance_dir(instance), self.revert_dir(instance)
        try:
            if os.path.isdir(revert):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(revert, KEPT_VM_FILE))
                instance_files.move_files(revert, directory)
                shutil.rmtree(revert)
            self.vmops.volumes.restore(vm, block_device_info, released)
            if running:
                self.vmops.set_state(instance, RequestedState.START)
        except Exception:
            LOG.exception("%s: could not undo the failed migration (%s)", instance.uuid, error)
            raise translate(error, instance) from error

    def confirm_migration(self, instance: Any) -> None:
        """The resize stays: remove the kept VM and the files set aside (its volumes
        were let go of when it was powered off)."""
        instance.system_metadata.pop(SOURCE_KEY, None)
        self.vmops.consoles.stop(instance.uuid)
        self.remove_leftover_vm(instance)
        shutil.rmtree(self.revert_dir(instance), ignore_errors=True)
        directory = self.vmops.instance_dir(instance)
        # Empty but for the VM's configuration: remove it. With files, it is the
        # destination's folder too (shared storage): leave it.
        if not instance_files.top_level_files(directory):
            shutil.rmtree(directory, ignore_errors=True)
        if os.path.exists(self.revert_dir(instance)):
            raise exception.NovaException(
                message=f"could not remove {self.revert_dir(instance)}")

    def finish_revert_migration(self, context: Any, instance: Any, network_info: Any,
                                block_device_info: Any, power_on: bool) -> None:
        """The files back where they were; the kept VM gets its volumes again (where it
        had them) and its device metadata, and is started again."""
        instance.system_metadata.pop(SOURCE_KEY, None)
        directory, revert = self.vmops.instance_dir(instance), self.revert_dir(instance)
        with nova_errors(instance):
            addresses, metadata = _take_kept(revert)
            if os.path.isdir(revert):
                for name in instance_files.top_level_files(directory):
                    os.unlink(os.path.join(directory, name))  # the destination's (shared)
                instance_files.move_files(revert, directory)
                shutil.rmtree(revert)
        try:
            vm = self.vmops.find(instance)
        except exception.InstanceNotFound:
            LOG.warning("%s: the VM kept for a revert is gone; building it again from its "
                        "files", instance.uuid)
            self._realize(context, instance, objects.ImageMeta.from_instance(instance),
                          network_info, block_device_info, power_on, resize=False)
            return
        with nova_errors(instance):
            self.vmops.volumes.restore(vm, block_device_info, addresses)
        if metadata is not None:  # the destination's VM had its own addresses
            instance.device_metadata = metadata
        if power_on:
            with nova_errors(instance):
                vm = self.client.set_state(vm, RequestedState.START)
            self.vmops.start_console(instance)
        self.client.remember(instance.uuid, vm)

    # -- destination --------------------------------------------------------------

    def finish_migration(self, context: Any, instance: Any, disk_info: str,
                         network_info: Any, image_meta: Any, block_device_info: Any,
                         power_on: bool) -> None:
        check_vif_types(network_info)
        self.remove_leftover_vm(instance)
        source, folder = self._pull(instance, disk_info)
        self._realize(context, instance, image_meta, network_info, block_device_info,
                      power_on, resize=True)
        revert = self.revert_dir(instance)  # stale here, unless it is the source's own
        if os.path.isdir(revert) and not os.path.samefile(revert, folder):
            shutil.rmtree(revert, ignore_errors=True)
        LOG.info("%s: moved here from %s", instance.uuid, source.host)

    def _pull(self, instance: Any, disk_info: str) -> tuple[SourceFiles, str]:
        """Copy the files the source set aside into the instance's folder here."""
        try:
            source = SourceFiles.from_json(disk_info)
        except ValueError as error:
            raise exception.NovaException(message=str(error)) from error
        # Emulated hosts (and the PyMI facade off Windows) share this machine's files.
        local = self.host.host_uri.scheme == EMULATED_SCHEME or os.name != "nt"
        folder = instance_files.source_folder(
            source, emulated=local, share=self.conf.hyperv.instances_path_share or None)
        directory = self.vmops.instance_dir(instance)
        with nova_errors(instance):
            # Files of an earlier attempt (on shared storage the source has moved its
            # own aside, so what is here is stale too).
            for name in instance_files.top_level_files(directory):
                os.unlink(os.path.join(directory, name))
            # The location kept in system metadata names no files: all but our record.
            names = source.files or [n for n in instance_files.top_level_files(folder)
                                     if n != KEPT_VM_FILE]
            instance_files.copy_files(folder, names, directory)
        return source, folder

    def recreate(self, context: Any, instance: Any, network_info: Any,
                 block_device_info: Any) -> bool:
        """Build the VM again from the instance's files here (a hard reboot of an
        instance whose VM is gone, e.g. after a failed resize; files a failed copy did
        not bring are pulled from the source again); False: no files."""
        root, _ = instance_disks.read_disks(self.vmops.instance_dir(instance))
        if root is None and SOURCE_KEY in instance.system_metadata:
            self._pull(instance, instance.system_metadata[SOURCE_KEY])
            root, _ = instance_disks.read_disks(self.vmops.instance_dir(instance))
        if root is None:
            return False
        LOG.warning("%s: no VM on this host; building it again from its files",
                    instance.uuid)
        self._realize(context, instance, objects.ImageMeta.from_instance(instance),
                      network_info, block_device_info, True, resize=False)
        instance.system_metadata.pop(SOURCE_KEY, None)  # it lives on its own files now
        return True

    def _local_base(self, context: Any, instance: Any, image_id: str | None,
                    root: RootFile) -> str:
        """This host's copy of the parent a differencing root was made on."""
        if not image_id:
            raise exception.DiskNotFound(location=f"{root.path}'s parent (no image)")
        images = self.vmops.images
        cached = images.get(context, image_id, getattr(instance, "trusted_certs", None))
        size = root.info.virtual_size if root.info else None
        if cached.format == "vhd" and cached.info and size != cached.info.virtual_size:
            return images.resized_base(cached, size)  # type: ignore[arg-type]
        return cached.path

    def _realize(self, context: Any, instance: Any, image_meta: Any, network_info: Any,
                 block_device_info: Any, power_on: bool, *, resize: bool) -> Vm:
        """The instance's VM from the files in its folder: planned for its flavor
        (checked against the disks as they are when resizing), disks made to match."""
        directory = self.vmops.instance_dir(instance)
        image_id = _image_id(instance, image_meta)
        with nova_errors(instance, image_id):
            root, disks = instance_disks.read_disks(directory)
            if root is not None and root.differencing:
                root = instance_disks.reconnect_root(
                    root, lambda r: self._local_base(context, instance, image_id, r))
            request = nova_request.build_request(context, instance, image_meta, network_info,
                                                 block_device_info,
                                                 root.facts() if root else {})
            math = root.disk_math() if root else disk_math_for(self.conf.use_cow_images)
            facts, config = self.host.info().facts, nova_request.hyperv_config(self.conf)
            if resize:
                plan = rules.plan_resize(disks, request, facts, config, disk_math=math)
            else:  # the disks as the flavor has them now (Nova's records may be older)
                devices = request.block_devices
                request = dataclasses.replace(request, block_devices=dataclasses.replace(
                    devices, ephemerals=rules.resized_ephemerals(
                        devices.ephemerals, request.flavor.ephemeral_gb)))
                plan = rules.plan_instance(request, facts, config, disk_math=math)
            configdrive.match_plan(plan, directory)
            prepared = instance_disks.prepare_disks(plan, directory, root)
        vm = self.vmops.build_vm(instance, plan, prepared.files, network_info, power_on,
                                 block_device_info)
        if resize:
            for path in prepared.obsolete:  # what the new flavor dropped, now the VM is up
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        return vm

    # -- leftovers ----------------------------------------------------------------

    def remove_leftover_vm(self, instance: Any) -> bool:
        """Remove this instance's VM from this host, where the instance does not live
        (the VM kept for a revert, or one an earlier failed move left)."""
        with nova_errors(instance):
            try:
                vm = self.client.find_vm(instance.name, instance.uuid)
            except VmNotFound:
                return False
            if self.client.owns(vm, instance.uuid):
                self.client.destroy(vm)
            self.client.forget(instance.uuid)
        return True

    def delete_instance_files(self, instance: Any) -> bool:
        folders = (self.vmops.instance_dir(instance), self.revert_dir(instance))
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        return not any(os.path.exists(folder) for folder in folders)

    # -- shared storage -----------------------------------------------------------

    def storage_probe(self) -> dict[str, str]:
        return {"filename": instance_files.make_probe(self.host.instances_path)}

    def sees_probe(self, data: dict[str, str]) -> bool:
        return instance_files.probe_exists(self.host.instances_path, data["filename"])

    def remove_probe(self, data: dict[str, str]) -> None:
        instance_files.remove_probe(self.host.instances_path, data["filename"])


# -- what the source keeps about its VM until the confirm or revert ----------------------

def _write_kept(revert: str, addresses: dict[str, Address], instance: Any) -> None:
    """Where the kept VM had its volumes, and the instance's device metadata as they
    describe it, in the revert folder (not among the files the destination copies)."""
    metadata = instance.device_metadata
    record = {"volumes": {k: list(v) for k, v in addresses.items()},
              "device_metadata": metadata.obj_to_primitive() if metadata else None}
    path = os.path.join(revert, KEPT_VM_FILE)
    try:
        with open(path + ".part", "w", encoding="utf-8") as stream:
            stream.write(jsonutils.dumps(record))
        os.replace(path + ".part", path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + ".part")
        raise


def _take_kept(revert: str) -> tuple[dict[str, Address], Any]:
    """The record `_write_kept` left (removed from the folder); nothing if there is none
    (a revert folder of an older driver, or none at all)."""
    path = os.path.join(revert, KEPT_VM_FILE)
    try:
        with open(path, encoding="utf-8") as stream:
            record = jsonutils.loads(stream.read())
    except FileNotFoundError:
        return {}, None
    os.unlink(path)
    addresses = {str(k): (str(v[0]), int(v[1]), int(v[2]))
                 for k, v in (record.get("volumes") or {}).items()}
    primitive = record.get("device_metadata")
    metadata = objects.InstanceDeviceMetadata.obj_from_primitive(primitive) \
        if primitive else None
    return addresses, metadata
