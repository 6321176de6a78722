"""The Python way of sampling GPUs once a second (what pynvml-based monitors do): ctypes calls into
NVML from a Python loop. Used by bench/sampler.js against the stand-in NVML; prints the CPU
seconds the loop used (not counting interpreter start)."""
import ctypes
import sys
import time

nvml = ctypes.CDLL(sys.argv[1])
seconds = float(sys.argv[2])
interval = float(sys.argv[3])
start_cpu = time.process_time()
nvml.nvmlInit_v2()
count = ctypes.c_uint()
nvml.nvmlDeviceGetCount_v2(ctypes.byref(count))
handles = []
for i in range(count.value):
    handle = ctypes.c_void_p()
    nvml.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(handle))
    handles.append(handle)
samples = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    for handle in handles:
        util = (ctypes.c_uint * 2)()
        mem = (ctypes.c_ulonglong * 3)()
        value = ctypes.c_uint()
        nvml.nvmlDeviceGetUtilizationRates(handle, util)
        nvml.nvmlDeviceGetMemoryInfo(handle, mem)
        nvml.nvmlDeviceGetPowerUsage(handle, ctypes.byref(value))
        nvml.nvmlDeviceGetTemperature(handle, 0, ctypes.byref(value))
        nvml.nvmlDeviceGetClockInfo(handle, 1, ctypes.byref(value))
    samples += 1
    time.sleep(interval)
nvml.nvmlShutdown()
print(time.process_time() - start_cpu, samples)
