/**
 * Which GPUs this box has, read once from `nvidia-smi -L` with a time limit
 * (nvidia-smi hangs on a wedged driver). Live sampling of memory and encoder
 * sessions belongs to the GPU sampler; this only tells admission whether GPU
 * work can run at all and where NVENC is.
 */
import { execFile } from 'node:child_process';
import type { Samples } from '../scheduler/admission.js';

/** Data-centre cards that have no NVENC engine. */
const NO_NVENC = /\b(H100|H200|H800|A100|A30|B100|B200|GB200)\b/i;

export function parseGpuList(text: string, ffmpegHasNvenc: boolean): Samples['gpus'] {
  const gpus: Samples['gpus'][number][] = [];
  for (const line of text.split('\n')) {
    const match = /^GPU (\d+): (.+?)(?: \(UUID: [^)]*\))?\s*$/.exec(line.trim());
    if (!match) continue;
    const name = match[2]!;
    gpus.push({ index: Number(match[1]), name, nvenc: ffmpegHasNvenc && !NO_NVENC.test(name) });
  }
  return gpus;
}

export function detectGpus(options: { ffmpegHasNvenc: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Samples> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: options.timeoutMs ?? 5000, env: options.env ?? process.env }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const problem = code === 'ENOENT' ? 'nvidia-smi not found' : error.killed ? 'nvidia-smi did not answer in time' : `nvidia-smi failed: ${error.message.split('\n')[0]}`;
        resolve({ gpus: [], gpuProblem: problem });
        return;
      }
      const gpus = parseGpuList(stdout, options.ffmpegHasNvenc);
      resolve({ gpus, gpuProblem: gpus.length === 0 ? 'nvidia-smi lists no GPU' : null });
    });
  });
}
