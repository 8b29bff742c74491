/**
 * Parser for `nvidia-smi -q -x`, every schema from the DOCTYPE-less 418.x
 * output to `nvsmi_device_v13.dtd`. The XML goes through xml2js with the
 * options node-nvidia-smi uses (`explicitArray: false`, `trim: true`), so an
 * element appears as a string, an object, or an array when it repeats: every
 * read below goes through `list`/`text`, which accept all three and also
 * the empty string xml2js gives for `<processes></processes>`.
 *
 * Only the fields admission needs are read. The GPU's index is its position
 * in the document: nvidia-smi lists GPUs in index order and the XML has no
 * index element (`minor_number` is the /dev node, which can differ).
 */
import { Parser } from 'xml2js';
import { excerpt, hasNvencEngine, isEnabled, parseNumber, type GpuParseResult, type GpuProcess, type GpuState } from './gpu-snapshot.js';

type XmlNode = Record<string, unknown>;

/** Parses the whole document; never throws. */
export function parseNvidiaSmiXml(text: string): GpuParseResult {
  const doc = parseXml(text);
  if (!doc.ok) return doc;
  const root = asNode(doc.value['nvidia_smi_log']);
  if (!root) return { ok: false, error: `unexpected nvidia-smi output (no <nvidia_smi_log>): ${excerpt(text)}` };
  const gpus: GpuState[] = [];
  for (const [position, node] of list(root['gpu']).entries()) {
    const gpu = readGpu(node, position);
    if (typeof gpu === 'string') return { ok: false, error: gpu };
    gpus.push(gpu);
  }
  if (gpus.length === 0) return { ok: false, error: 'nvidia-smi lists no GPU' };
  return { ok: true, gpus };
}

function readGpu(node: XmlNode, index: number): GpuState | string {
  const memory = asNode(node['fb_memory_usage']);
  const total = parseNumber(text(memory?.['total']));
  const used = parseNumber(text(memory?.['used']));
  const free = parseNumber(text(memory?.['free']));
  // Without live memory figures the GPU cannot be planned on; failing the
  // whole sample keeps admission from guessing.
  if (total === null || used === null || free === null) return `GPU ${index}: no memory figures in nvidia-smi output`;
  const name = text(node['product_name']);
  return {
    index,
    uuid: text(node['uuid']),
    name,
    memoryTotalMb: total,
    memoryUsedMb: used,
    memoryFreeMb: free,
    utilizationPercent: parseNumber(text(asNode(node['utilization'])?.['gpu_util'])),
    encoderSessions: parseNumber(text(asNode(node['encoder_stats'])?.['session_count'])),
    nvenc: hasNvencEngine(name),
    migEnabled: isEnabled(text(asNode(node['mig_mode'])?.['current_mig'])),
    processes: readProcesses(node['processes']),
  };
}

function readProcesses(value: unknown): GpuProcess[] {
  const processes: GpuProcess[] = [];
  for (const info of list(asNode(value)?.['process_info'])) {
    const pid = parseNumber(text(info['pid']));
    if (pid === null || !Number.isInteger(pid)) continue;
    processes.push({ pid, usedMemoryMb: parseNumber(text(info['used_memory'])), name: text(info['process_name']) });
  }
  return processes;
}

function parseXml(text: string): { ok: true; value: XmlNode } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: false, error: 'nvidia-smi printed nothing' };
  let outcome: { ok: true; value: XmlNode } | { ok: false; error: string } = { ok: false, error: 'XML parser gave no result' };
  // xml2js calls back synchronously for a string without `async: true`; the
  // callback only records, because a throw inside it would call it twice.
  new Parser({ explicitArray: false, trim: true }).parseString(text, (error: Error | null, value: unknown) => {
    const node = asNode(value);
    if (error) outcome = { ok: false, error: `unexpected nvidia-smi output (${error.message.split('\n')[0]}): ${excerpt(text)}` };
    else if (node) outcome = { ok: true, value: node };
  });
  return outcome;
}

function asNode(value: unknown): XmlNode | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

/** The element nodes under a key: none, one or many; text-only entries (an empty list) are skipped. */
function list(value: unknown): XmlNode[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.map(asNode).filter((n): n is XmlNode => n !== undefined);
}

/** An element's text, whether xml2js gave a string or (with attributes) an object holding it in `_`. */
function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  const node = asNode(value);
  return typeof node?.['_'] === 'string' ? node['_'].trim() : '';
}
