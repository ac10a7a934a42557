//! Device selection.

use candle_core::Device;

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
