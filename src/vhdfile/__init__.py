"""vhdfile: VHD and VHDX files, read and written the way Hyper-V does.

Pure Python (CRC-32C from the `crc32c` package), no dependency on the rest of
nova-hyperv. The emulated host's Msvm_ImageManagementService and the Nova driver's image
handling are built on this API:

Files
    create(path, format, type, virtual_size, *, block_size, logical_sector_size,
           physical_sector_size, parent, ...)            CreateVirtualHardDisk
    inspect(path) -> DiskInfo                           GetVirtualHardDiskSettingData/State
    open_disk(path, writable=False) -> VirtualDisk      guest reads/writes, extents, chain
    detect_format(path) -> DiskFormat | None            the format from the content
    resize(path, new_size); minimum_size(disk)          ResizeVirtualHardDisk (shrink: VHDX)
    merge(child, destination=None, delete_child=False)  MergeVirtualHardDisk
    set_parent(child, parent, ignore_id_mismatch=False) SetVirtualHardDiskSettingData
    convert(source, destination, format, type)          ConvertVirtualHardDisk

Sizes (exact, VHD block bitmaps included)
    max_file_size(format, type, virtual_size, ...)      the file once fully written
    largest_virtual_size(budget, format, type, ...)     what a flavor's root_gb allows
    minimum_flavor_root_gb(info)                        the smallest flavor an image fits

Guest content
    read_partition_table(disk), sniff_boot(disk) -> BootInfo (bios / uefi / both / unknown)
    vhdfile.testimages: GPT+ESP (FAT, EFI loader) and MBR images for tests

Errors: everything wrong with a file, a chain or a request raises a `VhdError`
(CorruptImageError, UnsupportedImageError, ParentError..., RequestError), with the file,
the field and the offset in the message. Operations that change a file are crash-safe:
new files appear only when complete; in-place changes go through the VHDX log or are
ordered and rolled back (see docs/vhdfile.md).
"""

from .convert import convert
from .create import create, default_block_size, format_for_path
from .disk import VirtualDisk, detect_format, inspect, open_disk
from .errors import (
    CorruptImageError,
    OperationFailedError,
    ParentError,
    ParentLoopError,
    ParentMismatchError,
    ParentNotFoundError,
    RequestError,
    UnsupportedImageError,
    VhdError,
)
from .merge import merge, set_parent
from .model import DiskFormat, DiskInfo, DiskType, Extent, ParentLocator
from .partitions import Boot, BootInfo, Partition, PartitionTable, read_partition_table, sniff_boot
from .resize import minimum_size, resize
from .sizes import largest_virtual_size, max_file_size, minimum_flavor_root_gb

__all__ = [
    "Boot",
    "BootInfo",
    "CorruptImageError",
    "DiskFormat",
    "DiskInfo",
    "DiskType",
    "Extent",
    "OperationFailedError",
    "ParentError",
    "ParentLocator",
    "ParentLoopError",
    "ParentMismatchError",
    "ParentNotFoundError",
    "Partition",
    "PartitionTable",
    "RequestError",
    "UnsupportedImageError",
    "VhdError",
    "VirtualDisk",
    "convert",
    "create",
    "default_block_size",
    "detect_format",
    "format_for_path",
    "inspect",
    "largest_virtual_size",
    "max_file_size",
    "merge",
    "minimum_flavor_root_gb",
    "minimum_size",
    "open_disk",
    "read_partition_table",
    "resize",
    "set_parent",
    "sniff_boot",
]
