"""Display controllers: S3, synthetic video and RemoteFX (3D) with its host GPUs."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    IN,
    IN_REF,
    JOB,
    OUT,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "Msvm_S3DisplayController",
        "CIM_DisplayController",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_SyntheticDisplayController",
        "CIM_DisplayController",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_Synthetic3DDisplayController",
        "CIM_DisplayController",
        props=(P("AllocatedGPU", "string", max_len=1024),),
    ),
    ClassDef(
        "Msvm_SyntheticDisplayControllerSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("ResolutionType", "uint8", values=V.RESOLUTION_TYPE),
            P("HorizontalResolution", "uint16"),
            P("VerticalResolution", "uint16"),
        ),
        since=10240,
    ),
    ClassDef(
        "Msvm_Synthetic3DDisplayControllerSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("MaximumScreenResolution", "uint8", values=V.MAXIMUM_SCREEN_RESOLUTION),
            P("MaximumMonitors", "uint8"),
            P("VRAMSizeBytes", "uint64", since=10240),
        ),
    ),
    ClassDef(
        "Msvm_Synth3dVideoPool",
        "CIM_ResourcePool",
        props=(
            P("Is3dVideoSupported", "boolean"),
            P("IsSLATCapable", "boolean"),
            P("IsGPUCapable", "boolean"),
            P("DirectXVersion", "string", max_len=1024),
            P("RequiredMinimumDirectXVersion", "string", max_len=1024),
        ),
        methods=(
            Method(
                "CalculateVideoMemoryRequirements",
                (
                    IN("monitorResolution", "uint32"),
                    IN("numberOfMonitors", "uint32"),
                    OUT("requiredVideoMemory", "uint64"),
                ),
                return_codes=C.VENDOR,
            ),
        ),
    ),
    ClassDef(
        "Msvm_Physical3dGraphicsProcessor",
        "CIM_LogicalDevice",
        props=(
            P("EnabledForVirtualization", "boolean"),
            P("CompatibleForVirtualization", "boolean", since=10586),
            P("GPUID", "string", max_len=1024),
            P("DirectXVersion", "string", max_len=1024),
            P("PixelShaderVersion", "string", max_len=1024),
            P("DedicatedVideoMemory", "uint64"),
            P("DedicatedSystemMemory", "uint64"),
            P("SharedSystemMemory", "uint64"),
            P("TotalVideoMemory", "uint64"),
            P("AvailableVideoMemory", "uint64"),
            P("DriverProvider", "string", max_len=1024),
            P("DriverDate", "datetime"),
            P("DriverInstalled", "datetime"),
            P("DriverVersion", "string", max_len=1024),
            P("DriverModelVersion", "string", max_len=1024, since=10586),
            P("Rating", "uint64"),
            P("AdapterIndexID", "uint64"),
        ),
    ),
    ClassDef(
        "Msvm_Synthetic3DService",
        "CIM_Service",
        methods=(
            Method(
                "EnableGPUForVirtualization",
                (
                    IN_REF("PhysicalGPU", "Msvm_Physical3dGraphicsProcessor"),
                    JOB,
                ),
                return_codes=C.DEVICE,
            ),
            Method(
                "DisableGPUForVirtualization",
                (
                    IN_REF("PhysicalGPU", "Msvm_Physical3dGraphicsProcessor"),
                    JOB,
                ),
                return_codes=C.DEVICE,
            ),
            Method(
                "ModifyServiceSettings",
                (
                    IN("SettingData", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
        ),
    ),
    ClassDef(
        "Msvm_Synthetic3DServiceSettingData",
        "CIM_SettingData",
        props=(P("GPUOvercommitEnabled", "boolean", default=False),),
    ),
    ClassDef(
        "Msvm_VideoHead",
        "CIM_VideoHead",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_PhysicalGPUInfo",
        "CIM_ManagedElement",
        props=(
            P("Name", "string", max_len=1024),
            P("ID", "string", max_len=1024),
            P("TotalVideoMemory", "uint64"),
            P("AvailableVideoMemory", "uint64"),
        ),
    ),
]
