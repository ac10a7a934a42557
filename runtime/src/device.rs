//! Device selection.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

use crate::error::RuntimeError;

/// Which device a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA device 0 when this build has CUDA and a GPU is present, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device 0; an error when this build or this machine has none.
    Cuda,
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!(
                "unknown device `{other}` (expected auto, cpu or cuda)"
            )),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        })
    }
}

/// The device `choice` names; asking for CUDA where there is none is an error that says why.
pub fn select_device(choice: DeviceChoice) -> Result<Device, RuntimeError> {
    match choice {
        DeviceChoice::Auto => Ok(best_device()),
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda => cuda_device(),
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device, RuntimeError> {
    Device::new_cuda(0).map_err(|e| RuntimeError::DeviceUnavailable {
        device: "cuda",
        reason: e.to_string(),
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device, RuntimeError> {
    Err(RuntimeError::DeviceUnavailable {
        device: "cuda",
        reason: "this build has no CUDA support (rebuild with `--features cuda`)".to_string(),
    })
}

/// A short name for `device`: `cpu` or `cuda:N`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".to_string(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// The CPU device.
pub fn cpu() -> Device {
    Device::Cpu
}

/// CUDA device 0 when built with the `cuda` feature and one is present, else the CPU.
pub fn best_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        if candle_core::utils::cuda_is_available() {
            if let Ok(device) = Device::new_cuda(0) {
                return device;
            }
        }
    }
    Device::Cpu
}

/// Every device this build can run on: the CPU, plus CUDA device 0 when available.
pub fn available_devices() -> Vec<Device> {
    let mut devices = vec![Device::Cpu];
    let best = best_device();
    if !best.is_cpu() {
        devices.push(best);
    }
    devices
}
