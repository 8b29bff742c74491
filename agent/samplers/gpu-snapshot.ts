/**
 * What the GPU sampler tells admission, whichever nvidia-smi form it came
 * from (the full `-q -x` XML or the cheap `--query-*` CSV). Both parsers
 * produce these shapes, so the admission code never sees nvidia-smi text.
 *
 * Glossary:
 * - *ok*: the last call to nvidia-smi answered and its output parsed.
 * - *stale*: the figures cannot be trusted for a decision now: the last call
 *   failed or timed out, or the snapshot is older than its interval allows.
 *   Admission starts no GPU work on a stale snapshot.
 * - *MiB*: nvidia-smi reports memory in MiB; fields say `Mb` for brevity.
 */

/** One process holding memory on one GPU (a process on two GPUs appears under each). */
export interface GpuProcess {
  pid: number;
  /** null where the driver does not say (Windows WDDM, vGPU guests). */
  usedMemoryMb: number | null;
  /** The executable as nvidia-smi names it; may be empty. */
  name: string;
}

export interface GpuState {
  /** nvidia-smi's index (PCI bus order), the number CUDA_VISIBLE_DEVICES takes with CUDA_DEVICE_ORDER=PCI_BUS_ID. */
  index: number;
  uuid: string;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
  memoryFreeMb: number;
  /** null when the driver reports N/A (MIG mode, some vGPU guests). */
  utilizationPercent: number | null;
  /** Live NVENC sessions; null when not reported. */
  encoderSessions: number | null;
  /** Whether the card has an NVENC engine at all (by product name; see hasNvencEngine). */
  nvenc: boolean;
  migEnabled: boolean;
  processes: GpuProcess[];
}

export interface GpuSnapshot {
  /** Epoch ms when the sample was started (for people: the console shows it). */
  at: number;
  /** The same moment on the monotonic clock: its age, and whether an attempt started after it (then it may not show in it). */
  takenAt: number;
  ok: boolean;
  stale: boolean;
  /** Why the snapshot is not ok, in words for an operator; null when ok. */
  error: string | null;
  /** Empty unless ok: a failing sample never carries old figures that could be mistaken for live ones. */
  gpus: GpuState[];
}

/** What a parser returns: failure is data, so the sampler can report it without a try/catch per call. */
export type GpuParseResult = { ok: true; gpus: GpuState[] } | { ok: false; error: string };

/**
 * Data-centre cards built without NVENC. A name match is the only signal
 * nvidia-smi gives (the XML has no engine list before MIG device
 * attributes), so the list is explicit and an override in config wins.
 */
const NO_NVENC = /\b(A100|A800|A30|H100|H200|H800|H20|B100|B200|GB200)\b/i;

export function hasNvencEngine(productName: string): boolean {
  return !NO_NVENC.test(productName);
}

/**
 * A number from an nvidia-smi value: `1542 MiB`, `100 %`, `7`, or null for
 * `N/A`, `[N/A]`, `[Not Supported]`, `[Requested functionality has been
 * deprecated]`, an empty cell and anything else that is not a number.
 */
export function parseNumber(value: string | undefined | null): number | null {
  if (value === undefined || value === null) return null;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(?:MiB|%|W|MHz|C)?\s*$/.exec(value);
  return match ? Number(match[1]) : null;
}

/** `Enabled` in nvidia-smi's words; `N/A`, `Disabled` or a missing element are all false. */
export function isEnabled(value: string | undefined | null): boolean {
  return (value ?? '').trim().toLowerCase() === 'enabled';
}

/** The first 80 characters of unexpected output, on one line, for an error message. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
