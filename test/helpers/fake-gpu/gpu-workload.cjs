// A fake GPU job for the `command` of gpu_ai profiles in tests. It behaves
// as a CUDA program does towards nvidia-smi: after a ramp-up its PID holds
// N MiB on one GPU, and the memory is gone when it exits, however it exits.
// The fake nvidia-smi (bin/nvidia-smi) shows it among the GPU's processes.
//
// argv: --mib N         memory to hold (default 1000)
//       --ramp-ms N     delay before the memory shows (default 100)
//       --duration-ms N how long to run in all (default 1000)
//       --gpu I|UUID    which GPU (default: the first of CUDA_VISIBLE_DEVICES, else 0)
//       --name S        process name nvidia-smi shows (default gpu-workload)
//       --state FILE    state file (default: $FAKE_NVIDIA_SMI_STATE)
// It prints `progress=N` lines, which the command kind reads as progress.
'use strict';
const { register, unregister } = require('./state.cjs');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const stateFile = option('state', process.env.FAKE_NVIDIA_SMI_STATE);
if (!stateFile) {
  process.stderr.write('gpu-workload: no --state and FAKE_NVIDIA_SMI_STATE is not set\n');
  process.exit(2);
}
const mib = Number(option('mib', '1000'));
const rampMs = Number(option('ramp-ms', '100'));
const durationMs = Number(option('duration-ms', '1000'));
const visible = (process.env.CUDA_VISIBLE_DEVICES || '').split(',')[0].trim();
const gpuText = option('gpu', visible || '0');
const gpu = /^\d+$/.test(gpuText) ? Number(gpuText) : gpuText;
const name = option('name', 'gpu-workload');

let registered = false;
const release = () => {
  if (!registered) return;
  registered = false;
  unregister(stateFile, process.pid);
};
process.on('exit', release);
// Release first, then die of the same signal, so the parent still sees the
// signal (not an exit code) as it would for a real program.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(signal, () => {
    release();
    process.kill(process.pid, signal);
  });
}

const startedAt = Date.now();
setTimeout(() => {
  register(stateFile, { pid: process.pid, gpu, usedMemoryMb: mib, name });
  registered = true;
  process.stderr.write(`gpu-workload: pid ${process.pid} holds ${mib} MiB on GPU ${gpu}\n`);
}, Math.max(0, rampMs));

const ticker = setInterval(() => {
  const percent = Math.min(100, Math.floor(((Date.now() - startedAt) / durationMs) * 100));
  process.stdout.write(`progress=${percent}\n`);
}, 100);

setTimeout(() => {
  clearInterval(ticker);
  process.stdout.write('progress=100\n');
  release();
  process.exit(0);
}, Math.max(0, durationMs));
