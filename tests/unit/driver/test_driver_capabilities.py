"""HyperVDriver.capabilities: every key nova 34 knows, each decided, none invented."""

from __future__ import annotations

import os_traits
import pytest
from nova.virt import driver as nova_driver

from nova_hyperv.driver import HyperVDriver

# The decisions of issue 7 / compute-hyperv, written down independently of driver.py.
SUPPORTED = {
    "has_imagecache", "supports_evacuate", "supports_attach_interface",
    "supports_device_tagging", "supports_tagged_attach_interface",
    "supports_tagged_attach_volume", "supports_extend_volume", "supports_trusted_certs",
    "supports_vtpm", "supports_secure_boot", "supports_image_type_vhd",
    "supports_image_type_vhdx", "supports_image_type_iso",
}


def test_every_key_nova_knows_is_decided_and_no_other() -> None:
    known = set(nova_driver.ComputeDriver.capabilities) | set(nova_driver.CAPABILITY_TRAITS_MAP)
    assert set(HyperVDriver.capabilities) == known


def test_values_are_booleans() -> None:
    assert {type(v) for v in HyperVDriver.capabilities.values()} == {bool}


def test_supported_capabilities() -> None:
    assert {k for k, v in HyperVDriver.capabilities.items() if v} == SUPPORTED


@pytest.mark.parametrize("key", ["supports_multiattach", "supports_migrate_to_same_host",
                                 "supports_pcpus", "supports_image_type_qcow2",
                                 "supports_image_type_raw"])
def test_hyperv_cannot(key: str) -> None:
    assert HyperVDriver.capabilities[key] is False


def test_traits_nova_reports_for_the_driver() -> None:
    traits = HyperVDriver(virtapi=None).capabilities_as_traits()
    assert {t for t, on in traits.items() if on} == {
        os_traits.COMPUTE_DEVICE_TAGGING,
        os_traits.COMPUTE_NET_ATTACH_INTERFACE,
        os_traits.COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG,
        os_traits.COMPUTE_VOLUME_ATTACH_WITH_TAG,
        os_traits.COMPUTE_VOLUME_EXTEND,
        os_traits.COMPUTE_TRUSTED_CERTS,
        os_traits.COMPUTE_SECURITY_UEFI_SECURE_BOOT,
        os_traits.COMPUTE_IMAGE_TYPE_VHD,
        os_traits.COMPUTE_IMAGE_TYPE_VHDX,
        os_traits.COMPUTE_IMAGE_TYPE_ISO,
    }
    # Managed as absent, so the resource tracker removes them from the provider.
    assert traits[os_traits.COMPUTE_VOLUME_MULTI_ATTACH] is False
    assert traits[os_traits.COMPUTE_SECURITY_STATELESS_FIRMWARE] is False
