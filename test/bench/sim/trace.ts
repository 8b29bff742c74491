/**
 * A seeded job trace for the scheduling simulator: what a day on a small
 * media box looks like. Each job belongs to a profile; the profile declares
 * its needs the way an operator writes them in YAML, and the job's true usage
 * is drawn around what such a tool really takes. Some profiles under-declare
 * their VRAM by 30–50 % (the AI models grew, the YAML did not), which is the
 * case learned estimates exist for.
 */
import type { Category, Kind } from '../../../agent/config/config.schema.js';
import { mulberry32 } from '../../helpers/random.js';

export interface BoxSpec {
  gpus: number;
  vramMb: number;
  cores: number;
  memMb: number;
  nvencSessionLimit: number;
}

/** 2 × 24 GiB workstation cards (RTX A5000 class: NVENC, 32-session limit), 16 cores, 64 GiB. */
export const BOX: BoxSpec = { gpus: 2, vramMb: 24_576, cores: 16, memMb: 65_536, nvencSessionLimit: 32 };

/** What one job really takes when it runs alone. */
export interface Truth {
  vramMb: number;
  cpuCores: number;
  rssMb: number;
  /** Time from start until its VRAM reaches `vramMb` (model load, encoder set-up). */
  rampMs: number;
  /** Share of the card's SMs it keeps busy running alone (0–1). */
  sm: number;
  /** Share of the card's NVENC engine it keeps busy running alone (0–1). */
  enc: number;
}

export interface Declared {
  vramMb: number;
  cpuCores: number;
}

export interface SimJob {
  id: string;
  profile: string;
  category: Category;
  kind: Kind;
  encoder: 'cpu' | 'nvenc' | null;
  priority: number;
  arrivalMs: number;
  /** Wall time running alone; sharing the CPU, SMs or NVENC engine stretches it. */
  durationMs: number;
  declared: Declared;
  truth: Truth;
}

/** A process that is not ours, holding memory on a GPU from `fromMs` until `toMs`. */
export interface ForeignProcess {
  name: string;
  gpu: number;
  mb: number;
  fromMs: number;
  toMs: number;
}

export interface Trace {
  jobs: SimJob[];
  foreign: ForeignProcess[];
}

interface ProfileSpec {
  name: string;
  category: Category;
  kind: Kind;
  encoder: 'cpu' | 'nvenc' | null;
  weight: number;
  declared: Declared;
  /** True VRAM range: [lo, hi] MiB. */
  vram: [number, number];
  cores: number;
  rssMb: number;
  rampMs: [number, number];
  sm: number;
  enc: number;
  /** Alone duration range in seconds, drawn log-uniformly (many short, some long). */
  seconds: [number, number];
}

/**
 * The profiles. Under-declared ones: nvenc-hevc-4k (declares 800, uses
 * 1100–1500: 27–47 % under), esrgan-upscale (6000 vs 8500–10000: 29–40 %),
 * sdxl-batch (8000 vs 12500–14500: 36–45 %). x265-4k also uses more cores
 * than it declares (x265 spreads over what it finds).
 */
const PROFILES: readonly ProfileSpec[] = [
  { name: 'thumbnail', category: 'cpu', kind: 'thumbnail', encoder: null, weight: 18, declared: { vramMb: 0, cpuCores: 1 }, vram: [0, 0], cores: 1, rssMb: 150, rampMs: [0, 0], sm: 0, enc: 0, seconds: [3, 15] },
  { name: 'x264-1080p', category: 'cpu', kind: 'transcode', encoder: 'cpu', weight: 14, declared: { vramMb: 0, cpuCores: 4 }, vram: [0, 0], cores: 4, rssMb: 400, rampMs: [0, 0], sm: 0, enc: 0, seconds: [60, 400] },
  { name: 'x265-4k', category: 'cpu', kind: 'transcode', encoder: 'cpu', weight: 5, declared: { vramMb: 0, cpuCores: 6 }, vram: [0, 0], cores: 8, rssMb: 1500, rampMs: [0, 0], sm: 0, enc: 0, seconds: [300, 1500] },
  { name: 'nvenc-h264-1080p', category: 'gpu_encode', kind: 'transcode', encoder: 'nvenc', weight: 20, declared: { vramMb: 400, cpuCores: 1 }, vram: [280, 420], cores: 1, rssMb: 300, rampMs: [1000, 3000], sm: 0.05, enc: 0.15, seconds: [30, 240] },
  { name: 'nvenc-hevc-4k', category: 'gpu_encode', kind: 'transcode', encoder: 'nvenc', weight: 12, declared: { vramMb: 800, cpuCores: 2 }, vram: [1100, 1500], cores: 2, rssMb: 600, rampMs: [2000, 5000], sm: 0.1, enc: 0.35, seconds: [120, 700] },
  { name: 'whisper-large', category: 'gpu_ai', kind: 'command', encoder: null, weight: 10, declared: { vramMb: 4000, cpuCores: 2 }, vram: [3500, 4100], cores: 2, rssMb: 3000, rampMs: [10_000, 25_000], sm: 0.5, enc: 0, seconds: [120, 900] },
  { name: 'esrgan-upscale', category: 'gpu_ai', kind: 'command', encoder: null, weight: 8, declared: { vramMb: 6000, cpuCores: 2 }, vram: [8500, 10_000], cores: 2, rssMb: 2500, rampMs: [8000, 20_000], sm: 0.9, enc: 0, seconds: [300, 1200] },
  { name: 'sdxl-batch', category: 'gpu_ai', kind: 'command', encoder: null, weight: 5, declared: { vramMb: 8000, cpuCores: 1 }, vram: [12_500, 14_500], cores: 1, rssMb: 6000, rampMs: [20_000, 40_000], sm: 1, enc: 0, seconds: [180, 900] },
  { name: 'denoise-small', category: 'gpu_ai', kind: 'command', encoder: null, weight: 8, declared: { vramMb: 2000, cpuCores: 1 }, vram: [1800, 2100], cores: 1, rssMb: 1200, rampMs: [5000, 10_000], sm: 0.3, enc: 0, seconds: [60, 300] },
];

export interface TraceOptions {
  jobs?: number;
  /** Mean gap between arrivals after the opening batch, in seconds. */
  meanGapS?: number;
}

/**
 * 300 jobs: a batch of 40 dropped at once (a folder copied in), then a
 * Poisson stream with a mean gap of 20 s, so a backlog builds and the order
 * and packing rules matter. A desktop session holds 600 MiB on GPU 0 all
 * along; someone runs an 8 GiB notebook on GPU 1 from minute 40 to 100.
 */
export function generateTrace(seed: number, options: TraceOptions = {}): Trace {
  const rng = mulberry32(seed);
  const n = options.jobs ?? 300;
  const gapS = options.meanGapS ?? 20;
  const between = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const logBetween = (lo: number, hi: number) => Math.exp(between(Math.log(lo), Math.log(hi)));
  const totalWeight = PROFILES.reduce((s, p) => s + p.weight, 0);
  const pick = () => {
    let r = rng() * totalWeight;
    for (const p of PROFILES) if ((r -= p.weight) < 0) return p;
    return PROFILES[PROFILES.length - 1]!;
  };
  // Most work is routine (4–7); some is urgent (1–3) or bulk (8–10).
  const priority = () => {
    const r = rng();
    return r < 0.2 ? 1 + Math.floor(rng() * 3) : r < 0.8 ? 4 + Math.floor(rng() * 4) : 8 + Math.floor(rng() * 3);
  };

  const jobs: SimJob[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (i >= 40) t += Math.round(-Math.log(1 - rng()) * gapS * 1000);
    const p = pick();
    jobs.push({
      id: `j${String(i).padStart(3, '0')}`,
      profile: p.name,
      category: p.category,
      kind: p.kind,
      encoder: p.encoder,
      priority: priority(),
      arrivalMs: t,
      durationMs: Math.round(logBetween(p.seconds[0], p.seconds[1]) * 1000),
      declared: p.declared,
      truth: {
        vramMb: Math.round(between(p.vram[0], p.vram[1])),
        cpuCores: p.cores,
        rssMb: p.rssMb,
        rampMs: Math.round(between(p.rampMs[0], p.rampMs[1])),
        sm: p.sm,
        enc: p.enc,
      },
    });
  }
  const foreign: ForeignProcess[] = [
    { name: 'desktop session', gpu: 0, mb: 600, fromMs: 0, toMs: Infinity },
    { name: 'notebook', gpu: 1, mb: 8192, fromMs: 40 * 60_000, toMs: 100 * 60_000 },
  ];
  return { jobs, foreign };
}
