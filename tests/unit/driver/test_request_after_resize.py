"""Nova's records after a resize, as the driver reads them for a new plan (evacuate,
rebuild): ephemeral block devices a resize to ephemeral_gb 0 left behind are not disks."""

from __future__ import annotations

from typing import Any

import pytest
from nova import objects

from nova_hyperv.ops import request

objects.register_all()

EPHEMERAL = {"size": 1, "disk_bus": None, "device_type": "disk", "device_name": "/dev/sdb",
             "guest_format": None}


def _instance(ephemeral_gb: int) -> Any:
    return objects.Instance(
        uuid="0b2c6f1e-5a41-4bb4-9b7e-0f5c1f6f9f0a", id=1, hostname="h", metadata={},
        system_metadata={}, config_drive="", image_ref="", pci_requests=None,
        flavor=objects.Flavor(vcpus=1, memory_mb=1024, root_gb=1, ephemeral_gb=ephemeral_gb,
                              swap=0, extra_specs={}))


@pytest.mark.parametrize(("ephemeral_gb", "sizes"), [(0, ()), (1, (1,)), (2, (1,))])
def test_ephemerals_follow_a_flavor_resized_to_none(ephemeral_gb: int,
                                                     sizes: tuple[int, ...]) -> None:
    built = request.build_request(None, _instance(ephemeral_gb), objects.ImageMeta.from_dict({}),
                                  [], {"ephemerals": [EPHEMERAL]})
    assert tuple(e.size_gb for e in built.block_devices.ephemerals) == sizes
