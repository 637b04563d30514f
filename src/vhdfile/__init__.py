"""vhdfile: VHD and VHDX files, read and written as Hyper-V does (work in progress)."""

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
from .model import DiskFormat, DiskInfo, DiskType, Extent, ParentLocator

__all__ = [
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
    "RequestError",
    "UnsupportedImageError",
    "VhdError",
    "VirtualDisk",
    "create",
    "default_block_size",
    "detect_format",
    "format_for_path",
    "inspect",
    "open_disk",
]
