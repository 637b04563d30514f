"""Snapshots to Glance, shelve and unshelve, through Nova's API (issue 8, item 2)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from nova import exception
from tests.functional.hyperv_base import HyperVTestCase

import vhdfile

MARK_AT = 40 << 20  # inside the test images' data partition
MARK = b"written by the guest before the snapshot"


class SnapshotTest(HyperVTestCase):
    def _guest_writes(self, server: dict[str, Any], fmt: str = "vhdx") -> None:
        # What the guest wrote: straight into its root disk (a child of the cached image)
        root = os.path.join(self.instance_dir(server), f"root.{fmt}")
        with vhdfile.open_disk(root, writable=True) as disk:
            disk.write(MARK_AT, MARK)

    def _snapshot(self, server: dict[str, Any], name: str = "snap") -> str:
        response = self.api.post_server_action(server["id"], {"createImage": {"name": name}})
        self._wait_for_server_parameter(server, {"OS-EXT-STS:task_state": None})
        return str(response["image_id"])

    def _read_back(self, image_id: str) -> tuple[vhdfile.DiskInfo, bytes, str]:
        data = self.image_data(image_id)
        with tempfile.TemporaryDirectory() as scratch:
            path = os.path.join(scratch, "snapshot")
            with open(path, "wb") as stream:
                stream.write(data)
            with vhdfile.open_disk(path) as disk:
                return (disk.info, disk.read(MARK_AT, len(MARK)),
                        str(vhdfile.sniff_boot(disk).verdict))

    def test_snapshot_of_a_running_gen2_server_is_a_vhdx_with_its_content(self) -> None:
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        self._guest_writes(server)
        root = vhdfile.inspect(os.path.join(self.instance_dir(server), "root.vhdx"))
        image_id = self._snapshot(server)

        image = self.glance.show(None, image_id)
        self.assertEqual(("vhdx", "bare", "hyperv-gen2"), (
            image["disk_format"], image["container_format"],
            image["properties"].get("hw_machine_type")))
        info, mark, boots = self._read_back(image_id)
        # one standalone file: the differencing chain merged, the guest's data in it
        self.assertEqual(("vhdx", "dynamic", None, root.virtual_size),
                         (str(info.format), str(info.type), info.parent_path,
                          info.virtual_size))
        self.assertEqual(MARK, mark)
        self.assertEqual("uefi", boots)  # its partitions and EFI loader came along
        # the VM is back as it was, and nothing temporary is left
        self.assertEqual("Running", self.vm(server)["state"])
        self.assertEqual("ACTIVE", self.api.get_server(server["id"])["status"])
        self.assertEqual(["root.vhdx"], sorted(
            n for n in os.listdir(self.instance_dir(server)) if "." in n and
            n.rsplit(".", 1)[1] in ("vhd", "vhdx")))

        # the snapshot boots another server (generation 2, from its properties)
        again = self.boot(image_id)
        self.assertEqual(2, self.vm(again)["generation"])

    def test_snapshot_of_a_vhd_root_is_a_vhd_and_a_paused_server_stays_paused(self) -> None:
        server = self.boot(self.create_image("gen1-vhd"))
        self.api.post_server_action(server["id"], {"pause": None})
        server = self._wait_for_state_change(server, "PAUSED")
        self._guest_writes(server, "vhd")
        image_id = self._snapshot(server)
        self.assertEqual("vhd", self.glance.show(None, image_id)["disk_format"])
        info, mark, boots = self._read_back(image_id)
        self.assertEqual(("vhd", MARK, "bios"), (str(info.format), mark, boots))
        self.assertEqual("Paused", self.vm(server)["state"])

    def test_snapshot_of_a_stopped_server_leaves_it_off(self) -> None:
        server = self._stop_server(self.boot(self.create_image("gen1-vhdx")))
        image_id = self._snapshot(server)
        self.assertEqual("vhdx", self.glance.show(None, image_id)["disk_format"])
        self.assertEqual("Off", self.vm(server)["state"])

    def test_a_failed_upload_leaves_the_server_running_and_nothing_behind(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise exception.ImageNotAuthorized(image_id="snapshot")

        self.glance.update = refuse
        self.api.post_server_action(server["id"], {"createImage": {"name": "broken"}})
        self._wait_for_server_parameter(server, {"OS-EXT-STS:task_state": None})
        self.assertEqual("Running", self.vm(server)["state"])
        self.assertEqual("ACTIVE", self.api.get_server(server["id"])["status"])
        self.assertFalse([n for n in os.listdir(self.instance_dir(server))
                          if n.startswith("snapshot-")])


class ShelveTest(HyperVTestCase):
    def test_shelve_offload_and_unshelve(self) -> None:
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        root = os.path.join(self.instance_dir(server), "root.vhdx")
        with vhdfile.open_disk(root, writable=True) as disk:
            disk.write(MARK_AT, MARK)

        server = self._shelve_server(server)  # snapshot, then offload
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))
        shelved = self.api.get_server(server["id"])

        server = self._unshelve_server(shelved)
        vm = self.vm(server)
        self.assertEqual((2, "Running"), (vm["generation"], vm["state"]))
        # the snapshot was fetched into the instance's folder, not the cache, and is
        # the root itself: one file, the guest's data in it
        snapshot_id = self.downloads[-1]
        self.assertNotIn(snapshot_id, " ".join(os.listdir(self.cache_dir())))
        info = vhdfile.inspect(root)
        self.assertIsNone(info.parent_path)
        with vhdfile.open_disk(root) as disk:
            self.assertEqual(MARK, disk.read(MARK_AT, len(MARK)))
        self.assertEqual(["root.vhdx"], sorted(
            n for n in os.listdir(self.instance_dir(server)) if n.endswith(".vhdx")))
