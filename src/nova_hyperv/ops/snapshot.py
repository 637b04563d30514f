"""Snapshot to Glance: the instance's root disk, its chain merged into one file of its
real format (vhd or vhdx, container bare), uploaded through nova's image API.

Consistency without a Hyper-V checkpoint. A running (or paused) VM's worker process
holds its disk files, so they can be neither read consistently nor, on a real host,
opened by anyone else. compute-hyperv took a checkpoint and copied the frozen parent;
this driver saves the VM instead (RequestStateChange 6), as nova's libvirt driver does
for its cold snapshots (managed save, extract, restore): a saved VM has no worker
process, its disks hold exactly what the guest had written, and the VM goes back to
the state it was in as soon as the copy is made, before the upload. The guest is frozen
for the save, the copy and the restore; a VM that cannot be saved (an assigned PCI
device) must be stopped first. The copy is vhdfile.convert of the root, which reads the
whole chain (a differencing root and its cached parent) into one new file.

Task states: IMAGE_PENDING_UPLOAD once the VM is saved, IMAGE_UPLOADING before the
upload. The snapshot holds a per-instance lock that destroy also takes (unless
`[hyperv] force_destroy_instances`), as compute-hyperv's did. Everything temporary is
removed, and the VM's state restored, on success and on failure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

from nova import exception
from nova.compute import task_states
from nova.compute import utils as compute_utils
from nova.image import glance
from oslo_concurrency import lockutils

import vhdfile
from nova_hyperv.hyperv import RequestedState, VmState, VmStateError
from nova_hyperv.ops.errors import nova_errors

__all__ = ["ROOT_FORMATS", "SnapshotOps", "instance_lock", "root_file"]

LOG = logging.getLogger(__name__)

ROOT_FORMATS = ("vhdx", "vhd", "iso")
# States whose disks a worker process holds: saved for the copy, then restored.
HELD = (VmState.RUNNING, VmState.PAUSED)


@contextlib.contextmanager
def instance_lock(instance_uuid: str) -> Iterator[None]:
    """The lock a snapshot holds and destroy waits for (one nova-compute per host)."""
    with lockutils.lock(f"{instance_uuid}-hv-snapshot"):
        yield


def root_file(instance_dir: str) -> tuple[str, str] | None:
    """(path, format) of the instance's root disk file; None when it boots from a volume."""
    for fmt in ROOT_FORMATS:
        path = os.path.join(instance_dir, f"root.{fmt}")
        if os.path.exists(path):
            return path, fmt
    return None


class SnapshotOps:
    def __init__(self, instances: Any, image_api: Any = None) -> None:
        self.instances = instances  # ops.vmops.InstanceOps
        self.image_api = image_api or glance.API()

    def snapshot(self, context: Any, instance: Any, image_id: str,
                 update_task_state: Callable[..., None]) -> None:
        with instance_lock(instance.uuid):
            vm = self.instances.find(instance)
            directory = self.instances.instance_dir(instance)
            found = root_file(directory)
            if found is None:
                raise exception.NovaException(
                    message=f"instance {instance.uuid} has no local root disk to snapshot "
                            "(boot-from-volume instances are snapshotted through Cinder)")
            root, fmt = found
            export = os.path.join(directory, f"snapshot-{image_id}.{fmt}")
            try:
                self._copy(instance, vm, root, export, fmt, update_task_state)
                update_task_state(task_state=task_states.IMAGE_UPLOADING,
                                  expected_state=task_states.IMAGE_PENDING_UPLOAD)
                self._upload(context, image_id, export, fmt)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(export)
        LOG.info("snapshot of %s uploaded as image %s (%s)", instance.uuid, image_id, fmt)

    def _copy(self, instance: Any, vm: Any, root: str, export: str, fmt: str,
              update_task_state: Callable[..., None]) -> None:
        """Copy the root (its chain merged) into `export`, the VM saved meanwhile."""
        was = vm.state
        if was in HELD:
            with nova_errors(instance):
                try:
                    vm = self.instances.client.set_state(vm, RequestedState.SAVE)
                except VmStateError as exc:
                    raise exception.InstanceInvalidState(
                        attr="power_state", instance_uuid=instance.uuid,
                        state=f"{was.name.lower()} (cannot be saved: {exc}; stop the "
                              "server to snapshot it)", method="snapshot") from exc
        try:
            update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
            if fmt == "iso":
                shutil.copyfile(root, export)
            else:
                vhdfile.convert(root, export, fmt, vhdfile.DiskType.DYNAMIC)
        finally:
            if was in HELD:
                self._restore(instance, vm, was)

    def _restore(self, instance: Any, vm: Any, was: VmState) -> None:
        with nova_errors(instance):
            vm = self.instances.client.set_state(vm, RequestedState.START)
            if was == VmState.PAUSED:
                vm = self.instances.client.set_state(vm, RequestedState.PAUSE)
        self.instances.client.remember(instance.uuid, vm)

    def _upload(self, context: Any, image_id: str, export: str, fmt: str) -> None:
        metadata = {"disk_format": fmt, "container_format": "bare"}
        with compute_utils.disk_ops_semaphore, open(export, "rb") as data:
            self.image_api.update(context, image_id, metadata, data, purge_props=False)
