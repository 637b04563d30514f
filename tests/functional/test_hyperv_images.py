"""Images through Nova's API: the cache under instances_path/_base (reuse, aging,
pre-caching), the root disk's size, and the image preflight (issue 8, item 1)."""

from __future__ import annotations

import os
import time

from nova import context
from tests.functional.hyperv_base import HyperVTestCase

import vhdfile

GIB = 1 << 30
HOUR = 3600


class ImageCacheTest(HyperVTestCase):
    def cached(self, image: str, fmt: str = "vhdx") -> str:
        return os.path.join(self.cache_dir(), f"{image}.{fmt}")

    def test_second_boot_reuses_the_cached_image(self) -> None:
        image = self.create_image("gen1-vhdx")
        first = self.boot(image)
        second = self.boot(image)
        self.assertEqual([image], self.downloads)
        # use_cow_images (nova's default): both roots are children of the one cached file
        for server in (first, second):
            root = vhdfile.inspect(os.path.join(self.instance_dir(server), "root.vhdx"))
            self.assertEqual(("differencing", self.cached(image)),
                             (str(root.type), os.path.normpath(root.parent_path or "")))

    def test_root_is_the_largest_disk_whose_file_fits_the_flavor(self) -> None:
        # design brief 4: root_gb bounds the root FILE; its virtual size is the largest
        # whose fully written file fits (here a differencing child of the cached image).
        server = self.boot(self.create_image("gen2", hw_machine_type="hyperv-gen2"))
        root = vhdfile.inspect(os.path.join(self.instance_dir(server), "root.vhdx"))
        block = vhdfile.default_block_size(vhdfile.DiskFormat.VHDX,
                                           vhdfile.DiskType.DIFFERENCING)
        largest = vhdfile.largest_virtual_size(GIB, "vhdx", "differencing", block_size=block)
        self.assertEqual(largest, root.virtual_size)
        self.assertLessEqual(vhdfile.max_file_size("vhdx", "differencing", largest,
                                                   block_size=block), GIB)
        self.assertGreater(vhdfile.max_file_size("vhdx", "differencing", largest + block,
                                                 block_size=block), GIB)

    def _age_cache(self, hours: float) -> None:
        then = time.time() - hours * HOUR
        for name in os.listdir(self.cache_dir()):
            os.utime(os.path.join(self.cache_dir(), name), (then, then))

    def _run_aging(self) -> None:
        self.compute.manager._run_image_cache_manager_pass(context.get_admin_context())

    def test_aging_removes_unused_images_and_keeps_used_ones(self) -> None:
        self.flags(remove_unused_original_minimum_age_seconds=HOUR, group="image_cache")
        used, unused, iso = (self.create_image("gen1-vhdx"), self.create_image("gen2"),
                             self.create_image("iso"))
        self.boot(used)
        for image in (unused, iso):
            self._delete_server(self.boot(image))
        self._age_cache(hours=2)

        self._run_aging()
        self.assertEqual([f"{used}.vhdx"], sorted(os.listdir(self.cache_dir())))
        # the image in use was touched: its age starts again
        self.assertLess(time.time() - os.stat(self.cached(used)).st_mtime, 60)
        # a server booting from a removed image fetches it again
        self.boot(unused)
        self.assertEqual(2, self.downloads.count(unused))

    def test_unused_images_wait_for_the_minimum_age(self) -> None:
        self.flags(remove_unused_original_minimum_age_seconds=3 * HOUR, group="image_cache")
        image = self.create_image("gen1-vhdx")
        self._delete_server(self.boot(image))
        self._age_cache(hours=2)
        self._run_aging()
        self.assertTrue(os.path.exists(self.cached(image)))

    def test_aging_leaves_everything_when_removal_is_off(self) -> None:
        self.flags(remove_unused_base_images=False, group="image_cache")
        image = self.create_image("gen1-vhdx")
        self._delete_server(self.boot(image))
        self._age_cache(hours=48)
        self._run_aging()
        self.assertTrue(os.path.exists(self.cached(image)))

    def test_images_are_precached_through_the_aggregate_api(self) -> None:
        image = self.create_image("gen2")
        aggregate = self.api.post_aggregate({"aggregate": {"name": "hyperv"}})
        self.api.add_host_to_aggregate(aggregate["id"], "compute1")
        self.api.api_post(f"/os-aggregates/{aggregate['id']}/images",
                          {"cache": [{"id": image}]}, check_response_status=[202])
        deadline = time.monotonic() + 20
        while not os.path.exists(self.cached(image)) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(self.cached(image)))
        self.boot(image)
        self.assertEqual([image], self.downloads)  # the boot found it cached


class PreflightTest(HyperVTestCase):
    def test_unset_generation_is_chosen_from_a_uefi_only_layout(self) -> None:
        with self.assertLogs("nova_hyperv.ops.vmops", level="INFO") as logs:
            server = self.boot(self.create_image("gen2"))
        self.assertEqual(2, self.vm(server)["generation"])
        self.assertTrue(any("generation 2 chosen from image" in line
                            and "EFI system partition holding" in line
                            for line in logs.output), logs.output)

    def test_hybrid_and_mbr_images_get_generation_1(self) -> None:
        for kind in ("hybrid", "gen1-vhdx"):
            self.assertEqual(1, self.vm(self.boot(self.create_image(kind)))["generation"])

    def _refused(self, kind: str, flavor: str | None = None, **properties: str) -> str:
        server = self.boot(self.create_image(kind, **properties), flavor=flavor,
                           expected_state="ERROR")
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))
        return self.fault(server)

    def test_gen2_on_an_mbr_image_is_refused_naming_what_was_found(self) -> None:
        fault = self._refused("gen1-vhdx", hw_machine_type="hyperv-gen2")
        self.assertIn("hw_machine_type = 'hyperv-gen2': allowed hyperv-gen1. disk: MBR, no "
                      "EFI system partition, BIOS boot code", fault)

    def test_gen1_on_a_gpt_image_without_bios_boot_is_refused(self) -> None:
        fault = self._refused("gen2", hw_machine_type="hyperv-gen1")
        self.assertIn("hw_machine_type = 'hyperv-gen1': allowed hyperv-gen2. disk: GPT, an "
                      "EFI system partition holding", fault)

    def test_secure_boot_without_an_efi_loader_is_refused(self) -> None:
        # An empty EFI system partition is not UEFI bootable: the generation 2 rule
        # speaks first; a blank disk (no partitions at all) reaches the Secure Boot one.
        fault = self._refused("gen2-no-loader", hw_machine_type="hyperv-gen2",
                              os_secure_boot="required", os_type="windows")
        self.assertIn("an EFI system partition without a loader", fault)
        big_enough = self._create_flavor(memory_mb=1024, vcpu=1, disk=3, ephemeral=0)
        fault = self._refused("big", big_enough, hw_machine_type="hyperv-gen2",
                              os_secure_boot="required", os_type="windows")
        self.assertIn("os_secure_boot = 'required': allowed disabled for this image. disk: "
                      "no partition table. Secure Boot starts only", fault)

    def test_preflight_off_takes_the_image_as_it_is(self) -> None:
        self.flags(image_preflight=False, group="hyperv")
        server = self.boot(self.create_image("gen1-vhdx", hw_machine_type="hyperv-gen2"))
        self.assertEqual(2, self.vm(server)["generation"])
        # and nothing chooses the generation from the layout
        self.assertEqual(1, self.vm(self.boot(self.create_image("gen2")))["generation"])
