"""Cold migration, resize, confirm, revert and evacuate between two emulated hosts,
through Nova's API."""

from __future__ import annotations

import contextlib
import os
import types
from typing import Any
from unittest import mock

from nova import context, objects
from oslo_serialization import jsonutils
from tests.functional.hyperv_base import GiB, TwoHostsTestCase

import vhdfile
from hyperv_emulator import init_host, open_host
from hyperv_emulator.inventory import describe
from hyperv_emulator.profiles import load_profile
from nova_hyperv.ops import instance_files
from nova_hyperv.ops.migration import KEPT_VM_FILE


class ResizeTest(TwoHostsTestCase):
    def test_resize_up_then_confirm(self) -> None:
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        dest = self.other(source)
        before = self.vm(server, source)
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, source))

        server = self._resize_server(server, self.flavor(vcpu=2, memory_mb=2048, disk=2,
                                                         ephemeral=2))
        self.assertEqual(dest, self.host_of(server))
        after = self.vm(server, dest)
        self.assertEqual(("Running", 2, 2048), (after["state"], after["processors"]["count"],
                                                after["memory"]["startup_mb"]))
        self.assertEqual(2 * GiB, self.disk_size(server, dest, "eph0.vhdx"))
        self.assertGreater(self.disk_size(server, dest, "root.vhdx"), GiB)
        # The source keeps its VM, off, and its files aside until the resize is confirmed.
        [kept] = self.vms_of(server, source)
        self.assertEqual((before["id"], "Off"), (kept["id"], kept["state"]))
        self.assertEqual(["eph0.vhdx", KEPT_VM_FILE, "root.vhdx"],
                         self.files(server, source, "_revert"))
        self.assertEqual([], self.files(server, source))

        self._confirm_resize(server)
        self.assertEqual([], self.vms_of(server, source))
        self.assertFalse(os.path.exists(self.instance_dir(server, source)))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))
        self.assertEqual("Running", self.vm(server, dest)["state"])

    def test_resize_adds_then_drops_ephemeral_swap_and_disk_qos(self) -> None:
        server = self.boot(flavor=self.flavor())
        first = self.host_of(server)
        server = self._resize_server(server, self.flavor(
            ephemeral=2, swap=256, **{"quota:disk_total_iops_sec": "300"}))
        second = self.host_of(server)
        self.assertEqual(["eph0.vhdx", "root.vhdx", "swap.vhdx"], self.files(server, second))
        self.assertEqual((2 * GiB, 256 << 20), (self.disk_size(server, second, "eph0.vhdx"),
                                                 self.disk_size(server, second, "swap.vhdx")))
        drives = [d for c in self.vm(server, second)["storage"] for d in c["drives"]]
        self.assertEqual([300, 300, 300], [d["iops_limit"] for d in drives])
        server = self._confirm_resize(server)

        # ephemeral_gb 0, no swap, no QoS: the disks go, the limit goes back to none (0)
        server = self._resize_server(server, self.flavor())
        self.assertEqual(first, self.host_of(server))
        self.assertEqual(["root.vhdx"], self.files(server, first))
        drives = [d for c in self.vm(server, first)["storage"] for d in c["drives"]]
        self.assertEqual([0], [d["iops_limit"] for d in drives])
        self._confirm_resize(server)
        self.assertEqual([], self.vms(second))

    def test_revert_brings_back_the_very_same_vm(self) -> None:
        self.flags(dynamic_memory_ratio=2.0, group="hyperv")
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        dest = self.other(source)
        before = self.vm(server, source)
        self.assertTrue(before["memory"]["dynamic"])

        # vNUMA turns dynamic memory off on the destination: the new flavor decides.
        server = self._resize_server(server, self.flavor(
            vcpu=2, memory_mb=2048, disk=2, ephemeral=2, **{"hw:numa_nodes": "2"}))
        resized = self.vm(server, dest)
        self.assertEqual((False, True, 1024, 1), (
            resized["memory"]["dynamic"], resized["numa"]["virtual_numa"],
            resized["memory"]["max_per_numa_node_mb"], resized["processors"]["max_per_numa_node"]))

        server = self._revert_resize(server)
        self.assertEqual(source, self.host_of(server))
        self.assertEqual(before, self.vm(server, source))  # same id, devices, settings
        self.assertEqual(GiB, self.disk_size(server, source, "eph0.vhdx"))
        self.assertEqual([], self.vms(dest))
        self.assertFalse(os.path.exists(self.instance_dir(server, dest)))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))

    def _refused(self, server: dict[str, Any], flavor: str) -> str:
        """Resize to `flavor`, which the source refuses: the fault, with the server as it
        was (ACTIVE, running, its files in place, nothing on the other host)."""
        source = self.host_of(server)
        self.api.post_server_action(server["id"], {"resize": {"flavorRef": flavor}})
        self.wait_for_failure()
        [newest, *_] = self.api.get_instance_actions(server["id"])
        [event] = [e for e in self.api.get_instance_action_details(
            server["id"], newest["request_id"])["events"]
            if e["event"] == "compute_resize_instance"]
        self.assertEqual(("resize", "Error"), (newest["action"], event["result"]))
        server = self._wait_for_state_change(server, "ACTIVE")
        self.assertEqual(source, self.host_of(server))
        self.assertEqual("Running", self.vm(server, source)["state"])
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, source))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))
        self.assertEqual([], self.vms_of(server, self.other(source)))
        return str(event["details"])

    def test_shrinking_is_refused_before_anything_changes(self) -> None:
        server = self.boot(flavor=self.flavor(ephemeral=2))
        fault = self._refused(server, self.flavor(ephemeral=1))
        self.assertIn("ephemeral_gb = 1", fault)
        self.assertIn("eph0.vhdx 2147483648 bytes (2.00 GiB)", fault)
        # Nova itself refuses a root_gb below the one the server was built with (the
        # image's min_disk); a root grown by a resize is the driver's to defend.
        server = self._confirm_resize(self._resize_server(server, self.flavor(
            disk=3, ephemeral=2)))
        fault = self._refused(server, self.flavor(disk=2, ephemeral=2))
        self.assertIn("root_gb = 2", fault)
        self.assertIn("the root disk root.vhdx holds", fault)
        self.assertIn("allowed root_gb >= 3", fault)


class ColdMigrationTest(TwoHostsTestCase):
    def test_files_move_and_the_root_uses_this_hosts_image_cache(self) -> None:
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        dest = self.other(source)
        admin = context.get_admin_context()
        self.assertFalse(self.computes[source].manager._is_instance_storage_shared(
            admin, objects.Instance.get_by_uuid(admin, server["id"]), host=dest))
        server = self._migrate_server(server)
        self.assertEqual(dest, self.host_of(server))
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, dest))
        root = vhdfile.inspect(os.path.join(self.instance_dir(server, dest), "root.vhdx"))
        self.assertEqual(vhdfile.DiskType.DIFFERENCING, root.type)  # use_cow_images
        # The console log came along and the destination's reader appends to it.
        self.assertTrue(os.path.exists(os.path.join(self.instance_dir(server, dest),
                                                    "console.log")))
        output = self.api.post_server_action(server["id"], {"os-getConsoleOutput": {}})
        self.assertIn("login: ", output["output"])
        self.assertEqual(os.path.join(self.instances_path(dest), "_base"),
                         os.path.dirname(os.path.realpath(root.parent_path)))
        self._confirm_resize(server)
        self.assertEqual([], self.vms(source))
        # only the image cache and its locks stay on the source
        self.assertEqual(["_base", "locks"], sorted(os.listdir(self.instances_path(source))))

    def test_a_stopped_server_stays_stopped(self) -> None:
        server = self._stop_server(self.boot(flavor=self.flavor()))
        source = self.host_of(server)
        server = self._migrate_server(server, expected_state="VERIFY_RESIZE")
        self.assertEqual("Off", self.vm(server, self.other(source))["state"])
        self.api.post_server_action(server["id"], {"revertResize": None})
        self._wait_for_migration_status(server, ["reverted"])
        server = self._wait_for_state_change(server, "SHUTOFF")
        self.assertEqual(source, self.host_of(server))
        self.assertEqual("Off", self.vm(server, source)["state"])


class MigrationFaultTest(TwoHostsTestCase):
    def test_a_failure_on_the_source_puts_everything_back(self) -> None:
        self.flags(shutdown_timeout=0)  # power off by RequestStateChange
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        open_host(self.host_state_file(source)).faults.add("RequestStateChange", code=32768)
        self.api.post_server_action(server["id"], {"migrate": None})
        self.wait_for_failure()
        event = self._wait_for_action_fail_completion(server, "migrate",
                                                      "compute_resize_instance")
        self.assertIn("32768", event["details"])
        server = self._wait_for_state_change(server, "ACTIVE")
        self.assertEqual(source, self.host_of(server))
        self.assertEqual("Running", self.vm(server, source)["state"])
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, source))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))
        self.assertEqual([], self.vms(self.other(source)))

        # A failure after the VM is off: it is started again.
        revert = self.instance_dir(server, source) + "_revert"
        with open(revert, "w", encoding="utf-8") as blocker:  # the files cannot go aside
            blocker.write("in the way")
        self.api.post_server_action(server["id"], {"migrate": None})
        self.wait_for_failure()
        server = self._wait_for_state_change(server, "ACTIVE")
        self.assertEqual("Running", self.vm(server, source)["state"])
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, source))
        self.assertEqual([], self.vms(self.other(source)))
        os.unlink(revert)

        # Nothing is stuck: the next try goes through.
        self._confirm_resize(self._migrate_server(server))

    def test_a_failure_on_the_destination_is_recovered_by_a_hard_reboot(self) -> None:
        # Host calls in the middle of building the VM and at its start, and the copy.
        for step in ("AddResourceSettings", "RequestStateChange", "copy"):
            with self.subTest(step=step):
                self._fail_finish_then_recover(step)

    def _fail_finish_then_recover(self, step: str) -> None:
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        dest = self.other(source)
        if step == "copy":  # the source's share cannot be read (the file system's edge)
            def unreachable(source: str, target: str) -> None:
                raise PermissionError(13, "Access is denied", source)

            failing = mock.patch.object(instance_files, "shutil",
                                        types.SimpleNamespace(copyfile=unreachable))
        else:
            open_host(self.host_state_file(dest)).faults.add(step, code=32768)
            failing = contextlib.nullcontext()
        with failing:
            self.api.post_server_action(server["id"], {"resize": {"flavorRef": self.flavor(
                vcpu=2, ephemeral=1)}})
            self.wait_for_failure()
        server = self._wait_for_state_change(server, "ERROR")
        self.assertEqual(dest, self.host_of(server))
        # No VM half made on the destination; the copied disks are there, complete
        # (none if the copy failed); the source still has its VM (off) and its files.
        self.assertEqual([], self.vms_of(server, dest))
        self.assertEqual([] if step == "copy" else ["eph0.vhdx", "root.vhdx"],
                         self.files(server, dest))
        self.assertEqual(["Off"], [vm["state"] for vm in self.vms_of(server, source)])
        self.assertEqual(["eph0.vhdx", KEPT_VM_FILE, "root.vhdx"],
                         self.files(server, source, "_revert"))

        server = self._reboot_server(server, hard=True)
        vm = self.vm(server, dest)
        self.assertEqual(("Running", 1), (vm["state"], vm["processors"]["count"]))

        self._delete_server(server)
        self.assertEqual([], self.vms_of(server, dest))
        self.assertFalse(os.path.exists(self.instance_dir(server, dest)))
        # The source's VM and files of a deleted instance: nova's periodic clean-up of
        # deleted instances still on a host (running_deleted_instance_action = reap)
        # destroys them there.
        self.computes[source].manager._cleanup_running_deleted_instances(
            context.get_admin_context())
        self.assertEqual([], self.vms_of(server, source))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))
        self.assertFalse(os.path.exists(self.instance_dir(server, source)))


class EvacuateTest(TwoHostsTestCase):
    def test_evacuate_rebuilds_from_the_image_and_the_source_cleans_up(self) -> None:
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        dest = self.other(source)
        [service] = self.api.get_services(host=source, binary="nova-compute")
        self.computes[source].stop()
        self.api.put_service(service["id"], {"forced_down": "true"})

        server = self._evacuate_server(server, expected_host=dest)  # stopped, since 2.95
        vm = self.vm(server, dest)
        self.assertEqual("Off", vm["state"])
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, dest))
        self.assertEqual(1, len(self.vms_of(server, source)))  # the host was down

        self.computes[source].start()  # finds the evacuated instance and removes it
        self.assertEqual([], self.vms_of(server, source))
        self.assertFalse(os.path.exists(self.instance_dir(server, source)))
        self.api.put_service(service["id"], {"forced_down": "false"})
        self._start_server(server)
        self.assertEqual("Running", self.vm(server, dest)["state"])


class RemoteFxResizeTest(TwoHostsTestCase):
    PROFILE = "ws2016"  # RemoteFX exists on 2012 R2 and 2016 only

    def test_remotefx_comes_and_goes_with_the_flavor(self) -> None:
        self.flags(enable_remotefx=True, group="hyperv")
        server = self.boot(flavor=self.flavor())
        self.assertIsNone(self.vm(server, self.host_of(server))["remotefx"])
        server = self._resize_server(server, self.flavor(
            **{"os:resolution": "1920x1200", "os:monitors": "2", "os:vram": "256"}))
        self.assertEqual({"monitors": 2, "resolution": "1920x1200", "vram_mb": 256},
                         self.vm(server, self.host_of(server))["remotefx"])
        server = self._confirm_resize(server)
        server = self._resize_server(server, self.flavor())
        self.assertIsNone(self.vm(server, self.host_of(server))["remotefx"])


PCI_HOST = """
preset = "ws2022"

[[assignable_devices]]
vendor_id = "10DE"
product_id = "1EB8"
location_path = "PCIROOT(0)#PCI(0300)#PCI(0000)"
"""


class PciResizeTest(TwoHostsTestCase):
    def setUp(self) -> None:
        spec = {"vendor_id": "10de", "product_id": "1eb8"}
        self.flags(device_spec=[jsonutils.dumps(spec)],
                   alias=[jsonutils.dumps({**spec, "name": "gpu", "device_type": "type-PCI"})],
                   group="pci")
        super().setUp()

    def prepare_compute_host(self, host: str) -> None:
        path = self.host_state_file(host)
        if not os.path.exists(path):
            toml = os.path.join(self.state_path, "pci-host.toml")
            with open(toml, "w", encoding="utf-8") as stream:
                stream.write(PCI_HOST)
            init_host(path, load_profile(toml).replace(hostname=host))
        super().prepare_compute_host(host)

    def test_a_device_is_attached_and_detached_through_resize(self) -> None:
        server = self.boot(flavor=self.flavor())
        first = self.host_of(server)
        server = self._resize_server(server, self.flavor(
            **{"pci_passthrough:alias": "gpu:1"}))
        second = self.host_of(server)
        vm = self.vm(server, second)
        self.assertEqual(["PCIROOT(0)#PCI(0300)#PCI(0000)"],
                         [d["location_path"] for d in vm["pci_devices"]])
        self.assertFalse(vm["memory"]["dynamic"])
        server = self._confirm_resize(server)

        server = self._resize_server(server, self.flavor())
        self.assertEqual(first, self.host_of(server))
        self.assertEqual([], self.vm(server, first)["pci_devices"])
        # Until the resize is confirmed the device stays with the VM kept for a revert
        # (Nova's PCI tracker keeps it claimed too); then it is free again.
        self.assertEqual(1, len(self.vms_of(server, second)[0]["pci_devices"]))
        self._confirm_resize(server)
        self.assertEqual([], self.vms(second))
        with open_host(self.host_state_file(second)).session() as session:
            [device] = describe(session)["host"]["assignable_devices"]
        self.assertIsNone(device.get("assigned_to"))


class SharedStorageTest(TwoHostsTestCase):
    """Both hosts keep instances on the same storage (as an SMB share or a cluster
    volume would give them): the source sets its files aside in the same tree the
    destination writes."""

    def instances_path(self, host: str = "compute1") -> str:
        return os.path.join(self.state_path, "shared-instances")

    def test_resize_revert_and_confirm_on_shared_storage(self) -> None:
        server = self.boot(flavor=self.flavor(ephemeral=1))
        source = self.host_of(server)
        dest = self.other(source)
        admin = context.get_admin_context()
        instance = objects.Instance.get_by_uuid(admin, server["id"])
        self.assertTrue(self.computes[source].manager._is_instance_storage_shared(
            admin, instance, host=dest))
        before = self.vm(server, source)

        server = self._resize_server(server, self.flavor(ephemeral=2))
        self.assertEqual(2 * GiB, self.disk_size(server, dest, "eph0.vhdx"))
        self.assertEqual(["eph0.vhdx", KEPT_VM_FILE, "root.vhdx"],
                         self.files(server, source, "_revert"))
        server = self._revert_resize(server)  # the destination keeps the files (shared)
        self.assertEqual(before, self.vm(server, source))
        self.assertEqual(GiB, self.disk_size(server, source, "eph0.vhdx"))
        self.assertEqual([], self.vms(dest))
        self.assertFalse(os.path.exists(self.instance_dir(server, source) + "_revert"))

        server = self._confirm_resize(self._resize_server(server, self.flavor(ephemeral=2)))
        self.assertEqual([], self.vms(source))
        self.assertEqual(["eph0.vhdx", "root.vhdx"], self.files(server, dest))  # kept
        self.assertFalse(os.path.exists(self.instance_dir(server, dest) + "_revert"))
        self.assertEqual("Running", self.vm(server, dest)["state"])
