"""The preloaded flavors and images: what the guide's features need, valid for nova."""

from __future__ import annotations

from pathlib import Path

import pytest
from nova import objects
from nova.api.validation.extra_specs import validators

import vhdfile
from nova_hyperv.cloud import samples

validators.load_validators()
objects.register_all()


@pytest.mark.parametrize("flavor", samples.FLAVORS, ids=lambda f: f.name)
def test_every_flavor_spec_passes_novas_validators(flavor: samples.SampleFlavor) -> None:
    for name, value in flavor.extra_specs.items():
        validators.validate(name, value)  # raises ValidationError when refused
    create, specs = samples.flavor_requests(flavor)
    assert create["flavor"]["name"] == flavor.name
    assert (create["flavor"]["OS-FLV-EXT-DATA:ephemeral"], create["flavor"]["swap"]) == (
        flavor.ephemeral_gb, flavor.swap_mb)
    assert specs == {"extra_specs": flavor.extra_specs}


def test_each_flavor_feature_of_the_guide_has_a_flavor() -> None:
    specs = {key for flavor in samples.FLAVORS for key in flavor.extra_specs}
    assert {"os:secure_boot", "hw:numa_nodes", "os:resolution", "os:monitors", "os:vram",
            "quota:disk_total_iops_sec", "quota:disk_total_bytes_sec",
            "pci_passthrough:alias", "hw:cpu_features"} <= specs
    assert len({f.name for f in samples.FLAVORS}) == len(samples.FLAVORS)
    # The RemoteFX flavor goes where the driver reports it can run RemoteFX.
    remotefx = next(f for f in samples.FLAVORS if "os:resolution" in f.extra_specs)
    assert remotefx.extra_specs["trait:CUSTOM_HYPERV_REMOTEFX"] == "required"
    assert any(f.ephemeral_gb and f.swap_mb for f in samples.FLAVORS)


@pytest.mark.parametrize("image", samples.IMAGES, ids=lambda i: i.name)
def test_sample_images_are_real_disks_of_their_generation(image: samples.SampleImage,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "disk.vhdx"
    image.build(path)
    assert vhdfile.detect_format(path).value == image.disk_format
    with vhdfile.open_disk(path) as disk:
        boot = vhdfile.sniff_boot(disk)
    gen2 = image.properties["hw_machine_type"] == "hyperv-gen2"
    assert (boot.uefi, boot.bios) == (gen2, not gen2)
    if gen2:
        assert boot.efi_loader == r"\EFI\BOOT\BOOTX64.EFI"
    # nova accepts the properties (enums such as os_secure_boot and os_type).
    meta = objects.ImageMeta.from_dict({"properties": image.properties,
                                        "disk_format": image.disk_format})
    assert meta.properties.hw_machine_type == image.properties["hw_machine_type"]
    fields = samples.image_fields(image)
    assert (fields["visibility"], fields["container_format"]) == ("public", "bare")


def test_the_secure_boot_sample_boots_with_the_secure_boot_flavor() -> None:
    # nova 34 refuses a flavor os:secure_boot that differs from the image's.
    from nova.virt import hardware

    image = next(i for i in samples.IMAGES if i.name == "hyperv-gen2-secureboot")
    flavor = next(f for f in samples.FLAVORS if f.name == "hv.secureboot")
    nova_flavor = objects.Flavor(name=flavor.name, extra_specs=flavor.extra_specs)
    meta = objects.ImageMeta.from_dict({"name": image.name, "properties": image.properties})
    assert hardware.get_secure_boot_constraint(nova_flavor, meta) == "required"


def test_only_the_shielded_sample_names_the_sample_pdk_container() -> None:
    named = {image.name: samples.image_fields(image, "container-1").get(samples.PDK_PROPERTY)
             for image in samples.IMAGES}
    assert {name for name, ref in named.items() if ref} == {"hyperv-gen2-shielded"}
    assert named["hyperv-gen2-shielded"] == "container-1"
    shielded = next(i for i in samples.IMAGES if i.shielding_data)
    assert samples.PDK_PROPERTY not in samples.image_fields(shielded)  # no key manager


def test_the_shielded_sample_requires_a_trait_only_guarded_hosts_report() -> None:
    from nova_hyperv.ops.host import VTPM_TRAITS

    image = next(i for i in samples.IMAGES if i.shielding_data)
    meta = objects.ImageMeta.from_dict({"properties": image.properties})
    assert meta.properties.traits_required == [samples.VTPM_TRAIT]
    assert samples.VTPM_TRAIT in VTPM_TRAITS
