/**
 * The cheap form of a GPU sample: `--query-gpu` for the cards and
 * `--query-compute-apps` for the processes, as CSV. nvidia-smi answers these
 * from a handful of NVML calls instead of building the whole `-q -x`
 * document, which is what makes a one-second loop affordable (figures in
 * test/bench/GPU-SAMPLER-NOTES.md).
 *
 * The sampler asks for `noheader,nounits` in a fixed column order. The
 * parsers also read output with a header row and units (`1542 MiB`, `100 %`)
 * in any column order, as captured from real cards: columns are then found
 * by the header's names.
 */
import { excerpt, hasNvencEngine, isEnabled, parseNumber, type GpuParseResult, type GpuProcess, type GpuState } from './gpu-snapshot.js';

export const QUERY_GPU_FIELDS = ['index', 'uuid', 'name', 'memory.total', 'memory.used', 'memory.free', 'utilization.gpu', 'encoder.stats.sessionCount', 'mig.mode.current'] as const;
/** process_name last: it is the one value that may itself contain the `, ` separator. */
export const QUERY_APPS_FIELDS = ['gpu_uuid', 'pid', 'used_memory', 'process_name'] as const;

export const QUERY_GPU_ARGS: readonly string[] = [`--query-gpu=${QUERY_GPU_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
export const QUERY_APPS_ARGS: readonly string[] = [`--query-compute-apps=${QUERY_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** A compute process as `--query-compute-apps` lists it, before it is put under its GPU. */
export interface ComputeApp extends GpuProcess {
  gpuUuid: string;
}

/** Header names nvidia-smi prints that differ from the names the query asks for. */
const ALIASES: Record<string, string> = { used_gpu_memory: 'used_memory', gpu_name: 'name' };

type Rows = { ok: true; rows: Map<string, string>[] } | { ok: false; error: string };

export function parseQueryGpuCsv(text: string): GpuParseResult {
  const table = readCsv(text, QUERY_GPU_FIELDS, 'name');
  if (!table.ok) return table;
  if (table.rows.length === 0) return { ok: false, error: 'nvidia-smi lists no GPU' };
  const gpus: GpuState[] = [];
  for (const [position, row] of table.rows.entries()) {
    const used = parseNumber(row.get('memory.used'));
    const free = parseNumber(row.get('memory.free'));
    if (used === null || free === null) return { ok: false, error: `GPU ${position}: no memory figures in nvidia-smi output` };
    // Older short queries omit memory.total; the card's total is what is
    // used, free and reserved together.
    const total = parseNumber(row.get('memory.total')) ?? used + free + (parseNumber(row.get('memory.reserved')) ?? 0);
    const name = row.get('name') ?? '';
    gpus.push({
      index: parseNumber(row.get('index')) ?? position,
      uuid: row.get('uuid') ?? '',
      name,
      memoryTotalMb: total,
      memoryUsedMb: used,
      memoryFreeMb: free,
      utilizationPercent: parseNumber(row.get('utilization.gpu')),
      encoderSessions: parseNumber(row.get('encoder.stats.sessionCount')),
      nvenc: hasNvencEngine(name),
      migEnabled: isEnabled(row.get('mig.mode.current')),
      processes: [],
    });
  }
  return { ok: true, gpus };
}

/** Header only or no output at all both mean no compute process is running. */
export function parseComputeAppsCsv(text: string): { ok: true; apps: ComputeApp[] } | { ok: false; error: string } {
  const table = readCsv(text, QUERY_APPS_FIELDS, 'process_name');
  if (!table.ok) return table;
  const apps: ComputeApp[] = [];
  for (const row of table.rows) {
    const pid = parseNumber(row.get('pid'));
    if (pid === null || !Number.isInteger(pid)) return { ok: false, error: `unexpected nvidia-smi output (no pid): ${excerpt(text)}` };
    apps.push({ gpuUuid: row.get('gpu_uuid') ?? '', pid, usedMemoryMb: parseNumber(row.get('used_memory')), name: row.get('process_name') ?? '' });
  }
  return { ok: true, apps };
}

/** Both answers as one parse result; processes go under the GPU whose UUID they name. */
export function parseNvidiaSmiCsv(gpuText: string, appsText: string): GpuParseResult {
  const cards = parseQueryGpuCsv(gpuText);
  if (!cards.ok) return cards;
  const apps = parseComputeAppsCsv(appsText);
  if (!apps.ok) return apps;
  return { ok: true, gpus: mergeComputeApps(cards.gpus, apps.apps) };
}

export function mergeComputeApps(gpus: readonly GpuState[], apps: readonly ComputeApp[]): GpuState[] {
  return gpus.map((gpu) => ({
    ...gpu,
    processes: apps.filter((a) => a.gpuUuid === gpu.uuid).map(({ pid, usedMemoryMb, name }) => ({ pid, usedMemoryMb, name })),
  }));
}

/**
 * Rows keyed by field name. `freeText` names the column allowed to contain
 * the separator: a row with extra cells gives them back to that column.
 */
function readCsv(text: string, fields: readonly string[], freeText: string): Rows {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const first = lines[0];
  if (first === undefined) return { ok: true, rows: [] };
  const headerNames = first.split(',').map((cell) => canonical(cell));
  const hasHeader = headerNames.filter((name) => fields.includes(name)).length >= 2;
  const columns = hasHeader ? headerNames : [...fields];
  const rows: Map<string, string>[] = [];
  for (const line of hasHeader ? lines.slice(1) : lines) {
    const cells = line.split(', ').map((cell) => cell.trim());
    const extra = cells.length - columns.length;
    const at = columns.indexOf(freeText);
    if (extra < 0 || (extra > 0 && at < 0)) return { ok: false, error: `unexpected nvidia-smi output: ${excerpt(line)}` };
    if (extra > 0) cells.splice(at, extra + 1, cells.slice(at, at + extra + 1).join(', '));
    rows.push(new Map(columns.map((name, i) => [name, cells[i] ?? ''])));
  }
  return { ok: true, rows };
}

/** `used_gpu_memory [MiB]` → `used_memory`. */
function canonical(headerCell: string): string {
  const name = headerCell.replace(/\[[^\]]*\]/g, '').trim();
  return ALIASES[name] ?? name;
}
