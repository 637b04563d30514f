"""Every guide feature the driver applies, booted through Nova's API (issue 7)."""

from __future__ import annotations

import os

from tests.functional.hyperv_base import HyperVTestCase

WINDOWS_TEMPLATE = "MicrosoftWindows"
LINUX_TEMPLATE = "MicrosoftUEFICertificateAuthority"


class GenerationTest(HyperVTestCase):
    def test_gen2_boots_from_scsi(self) -> None:
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        vm = self.vm(server)
        self.assertEqual(2, vm["generation"])
        [scsi] = vm["storage"]
        self.assertEqual(("SCSI 0", 0, "root.vhdx"),
                         (scsi["controller"], scsi["drives"][0]["slot"],
                          os.path.basename(scsi["drives"][0]["path"])))
        self.assertFalse(vm["firmware"]["secure_boot"])

    def test_vhdx_registered_as_vhd_boots_gen2(self) -> None:
        image = self.create_image("gen2", disk_format="vhd", hw_machine_type="hyperv-gen2")
        server = self.boot(image)
        self.assertEqual(2, self.vm(server)["generation"])

    def test_gen2_on_a_real_vhd_is_refused_naming_the_format(self) -> None:
        image = self.create_image("gen1-vhd", hw_machine_type="hyperv-gen2")
        server = self.boot(image, expected_state="ERROR")
        fault = self.fault(server)
        self.assertIn("file_format = 'vhd'", fault)
        self.assertIn("VHDX", fault)
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))

    def test_unknown_generation_is_refused_naming_the_property(self) -> None:
        server = self.boot(self.create_image(hw_machine_type="q35"),
                           expected_state="ERROR")
        fault = self.fault(server)
        self.assertIn("hw_machine_type = 'q35'", fault)
        self.assertIn("hyperv-gen1, hyperv-gen2", fault)

    def test_image_that_is_not_a_disk_is_refused(self) -> None:
        server = self.boot(self.create_image("raw", disk_format="vhd"),
                           expected_state="ERROR")
        self.assertIn("neither a VHD, a VHDX nor an ISO", self.fault(server))

    def test_root_disk_too_small_names_the_minimum(self) -> None:
        server = self.boot(self.create_image("big"), expected_state="ERROR")
        fault = self.fault(server)
        self.assertIn("root_gb = 1", fault)
        self.assertIn("root_gb >= 3", fault)
        self.assertEqual([], self.vms())


class SecureBootTest(HyperVTestCase):
    def _boot(self, flavor_spec: str | None, **image_properties: str) -> dict:
        specs = {"os:secure_boot": flavor_spec} if flavor_spec else None
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0,
                                     extra_spec=specs)
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2", **image_properties)
        return self.boot(image, flavor=flavor)

    def test_windows_gets_the_windows_template(self) -> None:
        vm = self.vm(self._boot(None, os_secure_boot="required", os_type="windows"))
        self.assertEqual((True, WINDOWS_TEMPLATE), (vm["firmware"]["secure_boot"],
                                                    vm["firmware"]["secure_boot_template"]))

    def test_linux_gets_the_uefi_ca_template(self) -> None:
        vm = self.vm(self._boot(None, os_secure_boot="required", os_type="linux"))
        self.assertEqual(LINUX_TEMPLATE, vm["firmware"]["secure_boot_template"])

    def test_flavor_and_image_both_required(self) -> None:
        vm = self.vm(self._boot("required", os_secure_boot="required", os_type="windows"))
        self.assertTrue(vm["firmware"]["secure_boot"])

    def test_optional_image_alone_stays_off(self) -> None:
        vm = self.vm(self._boot(None, os_secure_boot="optional", os_type="windows"))
        self.assertFalse(vm["firmware"]["secure_boot"])

    def test_flavor_disabled_on_an_image_without_the_property(self) -> None:
        vm = self.vm(self._boot("disabled", os_type="windows"))
        self.assertFalse(vm["firmware"]["secure_boot"])

    def test_nova_refuses_flavor_and_image_that_differ(self) -> None:
        # The guide lets the flavor win; nova 34's scheduler refuses any flavor / image
        # pair that both set Secure Boot differently (FlavorImageConflict) before a host
        # is chosen, so the driver never sees such a pair.
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0,
                                     extra_spec={"os:secure_boot": "disabled"})
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2",
                                  os_secure_boot="required", os_type="windows")
        server = self.boot(image, flavor=flavor, expected_state="ERROR")
        self.assertIn("os:secure_boot extra spec explicitly set to disabled", self.fault(server))

    def test_flavor_required_on_an_incapable_image_is_a_fault(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0,
                                     extra_spec={"os:secure_boot": "required"})
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2", os_type="windows")
        server = self.boot(image, flavor=flavor, expected_state="ERROR")
        self.assertIn("os:secure_boot = 'required'", self.fault(server))
        self.assertEqual([], self.vms())

    def test_secure_boot_on_gen1_is_a_fault(self) -> None:
        image = self.create_image("gen1-vhdx", os_secure_boot="required", os_type="windows")
        server = self.boot(image, expected_state="ERROR")
        self.assertIn("os_secure_boot", self.fault(server))
        self.assertIn("hyperv-gen2", self.fault(server))


class BootOrderTest(HyperVTestCase):
    def test_gen1_iso_boots_from_cd_first(self) -> None:
        server = self.boot(self.create_image("iso"))
        vm = self.vm(server)
        self.assertEqual(["cd", "ide", "network", "floppy"], vm["firmware"]["boot_order"])
        ide0 = next(c for c in vm["storage"] if c["controller"] == "IDE 0")
        self.assertEqual("DVD Drive", ide0["drives"][0]["type"])

    def test_gen1_disk_boots_from_disk_first(self) -> None:
        vm = self.vm(self.boot(self.create_image("gen1-vhd")))
        self.assertEqual(["ide", "cd", "network", "floppy"], vm["firmware"]["boot_order"])

    def test_gen2_root_then_ephemeral_then_nic_then_swap(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=1, swap=128)
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2")
        server = self.boot(image, flavor=flavor,
                           networks=[{"uuid": self.neutron.network_1["id"]}])
        vm = self.vm(server)
        self.assertEqual(["root.vhdx", "eph0.vhdx", "nic", "swap.vhdx"],
                         self.boot_names(vm))

    def test_gen2_ephemerals_follow_their_boot_index(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=2)
        image = self.create_image("gen2", hw_machine_type="hyperv-gen2")
        body = self._build_server(image_uuid=image, flavor_id=flavor, networks="none")
        body["block_device_mapping_v2"] = [
            {"boot_index": 0, "uuid": image, "source_type": "image",
             "destination_type": "local"},
            {"boot_index": -1, "source_type": "blank", "destination_type": "local",
             "volume_size": 1},
            {"boot_index": 1, "source_type": "blank", "destination_type": "local",
             "volume_size": 1},
        ]
        server = self._wait_for_state_change(self.api.post_server({"server": body}),
                                             "ACTIVE")
        self.assertEqual(["root.vhdx", "eph1.vhdx", "eph0.vhdx"],
                         self.boot_names(self.vm(server)))

    def boot_names(self, vm: dict) -> list[str]:
        from hyperv_emulator import open_host

        names = []
        with open_host(self.host_state_file("compute1")).session() as session:
            for entry in vm["firmware"]["boot_order"]:
                [link] = session.references(entry, result_class="Msvm_LogicalIdentity")
                device = session.get(link["SystemElement"])
                if "Ethernet" in device.class_name:
                    names.append("nic")
                    continue
                media = [m for m in session.query(
                    "SELECT * FROM Msvm_StorageAllocationSettingData")
                    if m["Parent"] and session.get(m["Parent"])["InstanceID"]
                    == device["InstanceID"]]
                names.append(os.path.basename(media[0]["HostResource"][0]))
        return names


class MemoryAndProcessorTest(HyperVTestCase):
    def test_vnuma_turns_dynamic_memory_off(self) -> None:
        self.flags(dynamic_memory_ratio=2.0, group="hyperv")
        flavor = self._create_flavor(memory_mb=2048, vcpu=2, disk=1, ephemeral=0,
                                     extra_spec={"hw:numa_nodes": "2"})
        vm = self.vm(self.boot(flavor=flavor))
        self.assertTrue(vm["numa"]["virtual_numa"])
        self.assertEqual(1, vm["processors"]["max_per_numa_node"])
        self.assertEqual(1024, vm["memory"]["max_per_numa_node_mb"])
        self.assertFalse(vm["memory"]["dynamic"])

    def test_dynamic_memory_ratio(self) -> None:
        self.flags(dynamic_memory_ratio=2.0, group="hyperv")
        flavor = self._create_flavor(memory_mb=2048, vcpu=2, disk=1, ephemeral=0)
        vm = self.vm(self.boot(flavor=flavor))
        memory = vm["memory"]
        self.assertEqual((True, 1024, 1024, 2048), (memory["dynamic"], memory["startup_mb"],
                                                    memory["minimum_mb"], memory["maximum_mb"]))
        self.assertFalse(vm["numa"]["virtual_numa"])
        self.assertEqual(2, vm["processors"]["count"])

    def test_nested_virtualization_from_the_image_property(self) -> None:
        # hw_cpu_features is not an ImageMetaProps field: the driver reads it from the
        # instance's system metadata.
        self.flags(dynamic_memory_ratio=2.0, group="hyperv")
        vm = self.vm(self.boot(self.create_image(hw_cpu_features="sse4.2, VMX")))
        self.assertTrue(vm["processors"]["nested_virtualization"])
        self.assertFalse(vm["memory"]["dynamic"])


class DisksTest(HyperVTestCase):
    def test_local_disks_with_qos_and_device_metadata(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=1, swap=128,
                                     extra_spec={"quota:disk_total_bytes_sec": "1000000"})
        server = self.boot(flavor=flavor)
        vm = self.vm(server)
        drives = {os.path.basename(d["path"]): (c["controller"], d["slot"], d["iops_limit"])
                  for c in vm["storage"] for d in c["drives"]}
        # 1000000 bytes/s -> 122 normalized (8 KB) IOPS, rounded down.
        self.assertEqual({"root.vhdx": ("IDE 0", 0, 122), "eph0.vhdx": ("SCSI 0", 0, 122),
                          "swap.vhdx": ("SCSI 0", 1, 122)}, drives)
        import vhdfile

        directory = self.instance_dir(server)
        self.assertEqual(1 << 30, vhdfile.inspect(os.path.join(directory, "eph0.vhdx"))
                         .virtual_size)
        self.assertEqual(128 << 20, vhdfile.inspect(os.path.join(directory, "swap.vhdx"))
                         .virtual_size)
        root = vhdfile.inspect(os.path.join(directory, "root.vhdx"))
        # use_cow_images (nova's default): the root is a differencing child, and
        # root_gb=1 bounds ITS file once fully written (2 MiB blocks, sector bitmaps).
        self.assertEqual("differencing", str(root.type))
        self.assertEqual(vhdfile.largest_virtual_size(1 << 30, "vhdx", "differencing",
                                                      block_size=root.block_size),
                         root.virtual_size)
        self.assertLessEqual(vhdfile.max_file_size("vhdx", "differencing", root.virtual_size,
                                                   block_size=root.block_size), 1 << 30)

    def test_copied_root_is_sized_to_the_flavor(self) -> None:
        self.flags(use_cow_images=False)
        server = self.boot(self.create_image("gen1-vhd"))
        import vhdfile

        root = vhdfile.inspect(os.path.join(self.instance_dir(server), "root.vhd"))
        self.assertEqual("dynamic", str(root.type))
        self.assertEqual(vhdfile.largest_virtual_size(1 << 30, "vhd", "dynamic",
                                                      block_size=root.block_size),
                         root.virtual_size)

    def test_use_cow_images_with_a_vhd_image(self) -> None:
        self.flags(use_cow_images=True)
        server = self.boot(self.create_image("gen1-vhd"))
        import vhdfile

        root = vhdfile.inspect(os.path.join(self.instance_dir(server), "root.vhd"))
        self.assertEqual("differencing", str(root.type))
        # A VHD child must be as big as its parent: the parent is the image grown to
        # the plan's size, kept in the cache as <image id>_<size>.vhd.
        self.assertTrue(root.parent_path.endswith(f"_{root.virtual_size}.vhd"))
        self.assertIn("_base", root.parent_path)


class SerialPortsTest(HyperVTestCase):
    def test_pipes_per_image_properties(self) -> None:
        server = self.boot(self.create_image(interactive_serial_port="2"))
        ports = {p["name"]: p["pipe"] for p in self.vm(server)["serial_ports"]}
        self.assertEqual({"COM 1": f"\\\\.\\pipe\\{server['id']}_ro",
                          "COM 2": f"\\\\.\\pipe\\{server['id']}_rw"}, ports)

    def test_bad_port_is_a_fault(self) -> None:
        server = self.boot(self.create_image(logging_serial_port="3"), expected_state="ERROR")
        self.assertIn("logging_serial_port = '3'", self.fault(server))


class NetworkTest(HyperVTestCase):
    def test_one_nic_per_port_with_its_mac_on_the_switch(self) -> None:
        server = self.boot(networks=[{"uuid": self.neutron.network_1["id"], "tag": "lan"}])
        ports = self.neutron.list_ports(True, device_id=server["id"])["ports"]
        vm = self.vm(server)
        self.assertEqual([{"name": ports[0]["id"],
                           "mac": ports[0]["mac_address"].replace(":", "").upper(),
                           "static_mac": True, "switch": "external", "vlan": None,
                           "mac_spoofing": False}], vm["nics"])


class DeviceMetadataTest(HyperVTestCase):
    def test_tagged_ephemeral_and_nic_in_the_metadata_api(self) -> None:
        import json

        from nova import context
        from nova.api.metadata import base as metadata
        from nova.objects import instance as instance_obj

        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=1)
        image = self.create_image("gen1-vhdx")
        body = self._build_server(image_uuid=image, flavor_id=flavor, networks=[
            {"uuid": self.neutron.network_1["id"], "tag": "lan"}])
        body["block_device_mapping_v2"] = [
            {"boot_index": 0, "uuid": image, "source_type": "image",
             "destination_type": "local"},
            {"boot_index": -1, "source_type": "blank", "destination_type": "local",
             "volume_size": 1, "tag": "scratch"},
        ]
        server = self._wait_for_state_change(self.api.post_server({"server": body}),
                                             "ACTIVE")
        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(
            admin, server["id"], expected_attrs=["device_metadata", "system_metadata",
                                                 "metadata", "flavor", "info_cache"])
        self.useFixture(__import__("fixtures").MockPatch(
            "nova.network.neutron.API.get_fixed_ip_by_address", return_value={}))
        data = json.loads(metadata.InstanceMetadata(instance).lookup(
            "/openstack/latest/meta_data.json"))
        port = self.neutron.list_ports(True, device_id=server["id"])["ports"][0]
        self.assertEqual([
            {"type": "nic", "bus": "pci", "address": "none", "mac": port["mac_address"],
             "tags": ["lan"], "vf_trusted": False},
            {"type": "disk", "bus": "scsi", "address": "0:0:0:0", "tags": ["scratch"]},
        ], data["devices"])


class FailureTest(HyperVTestCase):
    def test_a_host_failure_part_way_leaves_nothing_behind(self) -> None:
        from hyperv_emulator.providers import base
        from hyperv_emulator.providers.base import Refused

        def refuse(ctx, cls, method, instance, args):  # type: ignore[no-untyped-def]
            if method.name == "AddResourceSettings":
                raise Refused(32768, "injected host failure")

        base.CALL_HOOKS.append(refuse)
        self.addCleanup(base.CALL_HOOKS.remove, refuse)
        server = self.boot(expected_state="ERROR")
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))
