/**
 * The nvidia-smi parsers over every real capture in test/fixtures/nvidia-smi
 * (sources in test/fixtures/SOURCES.md), plus the inputs a broken driver or
 * tool gives: nothing, garbage, a cut-off document, an error message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { hasNvencEngine, parseNumber, type GpuState } from '../../agent/samplers/gpu-snapshot.js';
import { parseComputeAppsCsv, parseNvidiaSmiCsv, parseQueryGpuCsv } from '../../agent/samplers/nvidia-smi-csv.js';
import { parseNvidiaSmiXml } from '../../agent/samplers/nvidia-smi-xml.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/nvidia-smi');
const read = (kind: 'xml' | 'csv', name: string) => fs.readFileSync(path.join(FIXTURES, kind, name), 'utf8');

/** Per GPU: name, total/used/free MiB, utilisation, encoder sessions, nvenc, MIG, process count and the processes' MiB. */
type Expect = [string, number, number, number, number | null, number | null, boolean, boolean, number, (number | null)[]?];

const na = (n: number) => Array<null>(n).fill(null);

const XML: Record<string, Expect[]> = {
  'a100-sxm4-40gb_driver510.47.03_v11_mig.xml': [['NVIDIA A100-SXM4-40GB', 40960, 38, 40315, null, 0, false, true, 0]],
  'a100-sxm4-80gb_driver535.54.03_v12_mig_trimmed.xml': [['NVIDIA A100-SXM4-80GB', 81920, 50, 80999, null, 0, false, true, 0]],
  'a10g_driver515.105.01_v11_process.xml': [['NVIDIA A10G', 23028, 22, 22569, 0, 0, true, false, 1, [22]]],
  'dual-rtx2070_driver590.44.01_v13_multigpu.xml': [
    ['NVIDIA GeForce RTX 2070', 8192, 1, 7786, 0, 0, true, false, 0],
    ['NVIDIA GeForce RTX 2070', 8192, 1, 7786, 0, 0, true, false, 0],
  ],
  'dual-rtxa5000_driver590.44.01_v13_multigpu_processes.xml': [
    ['NVIDIA RTX A5000', 24564, 22437, 1678, 0, 0, true, false, 1, [22430]],
    ['NVIDIA RTX A5000', 24564, 17253, 6862, 0, 0, true, false, 1, [17246]],
  ],
  'grid-p4-1q-vgpu-win_driver513.46_v11_encoder-sessions_processes.xml': [['GRID P4-1Q', 1024, 807, 106, 0, 2, true, false, 13, na(13)]],
  'gt1030_driver470.74_v11_processes.xml': [['NVIDIA GeForce GT 1030', 1998, 875, 1123, 0, 0, true, false, 10, [547, 0, 67, 51, 1, 1, 1, 1, 130, 65]]],
  'h200_driver580.159.04_v13_idle.xml': [['NVIDIA H200', 143771, 0, 143156, 0, 0, false, false, 0]],
  'h200_driver580.159.04_v13_processes.xml': [['NVIDIA H200', 143771, 24437, 118720, 100, 0, false, false, 2, [21252, 3170]]],
  'gtx1660ti-graphics-device_driver418.43_nodoctype.xml': [['Graphics Device', 5912, 0, 5912, 0, 0, true, false, 0]],
  'quadro-p2000_driver525.125.06_v12.xml': [['Quadro P2000', 5120, 1, 5051, 0, 0, true, false, 0]],
  'quadro-p400_driver418.43_nodoctype.xml': [['Quadro P400', 1998, 0, 1998, 0, 0, true, false, 0]],
  'rtx2080-win_driver516.59_v11_processes.xml': [['NVIDIA GeForce RTX 2080', 8192, 862, 7147, 2, 0, true, false, 26, na(26)]],
  'rtx3060_driver570.124.04_v12.xml': [['NVIDIA GeForce RTX 3060', 12288, 116, 11806, 0, 0, true, false, 0]],
  'rtx3080_driver595.58.03_v13.xml': [['NVIDIA GeForce RTX 3080', 10240, 9184, 660, 65, 0, true, false, 0]],
  'rtx3090_driver590.44.01_v13.xml': [['NVIDIA GeForce RTX 3090', 24576, 7, 24120, 0, 0, true, false, 0]],
  'rtx4000-sff-ada_driver595.84_v13_processes.xml': [['NVIDIA RTX 4000 SFF Ada Generation', 20475, 3534, 16482, 0, 0, true, false, 4, [410, 451, 160, 183]]],
  'rtx4090_driver535.86.05_v12.xml': [['NVIDIA GeForce RTX 4090', 24564, 2, 24214, 0, 0, true, false, 0]],
  'rtxpro6000-blackwell-maxq_driver590.44.01_v13_process.xml': [['NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition', 97887, 65720, 31531, 0, 0, true, false, 1, [65710]]],
  'tesla-p100_driver510.47.03_v11.xml': [['Tesla P100-PCIE-16GB', 16384, 0, 16280, 0, 0, true, false, 0]],
  'tesla-t4-wddm_driver512.78_v11_processes.xml': [['Tesla T4', 15360, 276, 14882, 0, 0, true, false, 15, na(15)]],
  'tesla-t4_driver515.105.01_v11_processes.xml': [['Tesla T4', 15360, 1032, 13939, 0, 0, true, false, 2, [22, 1005]]],
};

const QUERY_GPU: Record<string, Expect> = {
  'h100-80gb-hbm3-mig_driver590.48.01_load_query-gpu_mig-enabled.csv': ['NVIDIA H100 80GB HBM3', 81559, 11125, 69956, null, 0, false, true, 0],
  'h100-80gb-hbm3_driver590.48.01_load_query-gpu.csv': ['NVIDIA H100 80GB HBM3', 81559, 19818, 61263, 100, 0, false, false, 0],
  'h200_driver590.48.01_load_query-gpu.csv': ['NVIDIA H200', 143771, 32362, 110796, 100, 0, false, false, 0],
  'l40s_driver595.80_load_query-gpu_encoder-sessions.csv': ['NVIDIA L40S', 46068, 1235, 44225, 9, 2, true, false, 0],
  'rtx2080super-linux_driver465.27_query-gpu.csv': ['NVIDIA GeForce RTX 2080 SUPER', 7979, 344, 7635, 0, 0, true, false, 0],
  'rtx2080super-win_driver471.11_query-gpu.csv': ['NVIDIA GeForce RTX 2080 SUPER', 8192, 876, 7316, 2, 0, true, false, 0],
  'rtx2080super-win_driver610.62_load_query-gpu_encoder-sessions.csv': ['NVIDIA GeForce RTX 2080 SUPER', 8192, 1366, 6622, 7, 2, true, false, 0],
  'rtx2080super_driver610.57.04_load_query-gpu_encoder-sessions.csv': ['NVIDIA GeForce RTX 2080 SUPER', 8192, 815, 6978, 8, 2, true, false, 0],
  'rtx4080super_driver595.71.05_idle_query-gpu.csv': ['NVIDIA GeForce RTX 4080 SUPER', 16376, 596, 15348, 0, 0, true, false, 0],
  'rtx4080super_driver595.71.05_load_query-gpu_encoder-sessions.csv': ['NVIDIA GeForce RTX 4080 SUPER', 16376, 1474, 14470, 7, 2, true, false, 0],
  // No memory.total column and no encoder field: total is reserved + used + free.
  'tesla-p100_driver510.47.03_query-gpu.csv': ['Tesla P100-PCIE-16GB', 16383, 0, 16280, 0, null, true, false, 0],
};

/** pid → MiB of each `--query-compute-apps` capture, in file order. */
const COMPUTE_APPS: Record<string, [number, number | null][]> = {
  'h100-80gb-hbm3_driver590.48.01_idle_query-compute-apps_empty.csv': [],
  'h100-80gb-hbm3_driver590.48.01_load_query-compute-apps_3procs.csv': [[11327, 2566], [11328, 1542], [11345, 15690]],
  'h200-mig_driver590.48.01_load_query-compute-apps_3procs.csv': [[12249, 2194], [12250, 1170], [12267, 13526]],
  'l40s_driver595.80_load_query-compute-apps_ffmpeg.csv': [[20037, 538], [20038, 681]],
  'rtx4080super_driver595.71.05_load_query-compute-apps_3procs.csv': [[2165, 25], [5022, 503], [5021, 360]],
};

function summary(gpu: GpuState): Expect {
  const s: Expect = [gpu.name, gpu.memoryTotalMb, gpu.memoryUsedMb, gpu.memoryFreeMb, gpu.utilizationPercent, gpu.encoderSessions, gpu.nvenc, gpu.migEnabled, gpu.processes.length];
  if (gpu.processes.length > 0) s.push(gpu.processes.map((p) => p.usedMemoryMb));
  return s;
}

describe('parseNvidiaSmiXml on real captures', () => {
  test('every XML fixture is in the table', () => {
    expect(Object.keys(XML).sort()).toEqual(fs.readdirSync(path.join(FIXTURES, 'xml')).sort());
  });

  test.each(Object.entries(XML))('%s', (file, expected) => {
    const result = parseNvidiaSmiXml(read('xml', file));
    if (!result.ok) throw new Error(result.error);
    expect(result.gpus.map(summary)).toEqual(expected);
    expect(result.gpus.map((g) => g.index)).toEqual(expected.map((_, i) => i));
    for (const gpu of result.gpus) expect(gpu.uuid).toMatch(/^GPU-[0-9a-f-]{36}$/);
  });

  test('one process on two GPUs is listed under each, with its memory there', () => {
    const result = parseNvidiaSmiXml(read('xml', 'dual-rtxa5000_driver590.44.01_v13_multigpu_processes.xml'));
    if (!result.ok) throw new Error(result.error);
    expect(result.gpus.map((g) => g.processes)).toEqual([
      [{ pid: 100477, usedMemoryMb: 22430, name: '/root/src/llama.cpp/build/bin/llama-server' }],
      [{ pid: 100477, usedMemoryMb: 17246, name: '/root/src/llama.cpp/build/bin/llama-server' }],
    ]);
    expect(new Set(result.gpus.map((g) => g.uuid)).size).toBe(2);
  });

  test('a MIG card reports the whole GPU memory, not its first MIG device', () => {
    // The first <fb_memory_usage> in the document belongs to MIG device 0 (19968 MiB).
    const result = parseNvidiaSmiXml(read('xml', 'a100-sxm4-40gb_driver510.47.03_v11_mig.xml'));
    expect(result.ok && result.gpus[0]?.memoryTotalMb).toBe(40960);
  });

  test('Windows processes without a name or memory keep their pid', () => {
    const result = parseNvidiaSmiXml(read('xml', 'tesla-t4-wddm_driver512.78_v11_processes.xml'));
    expect(result.ok && result.gpus[0]?.processes[0]).toEqual({ pid: 2320, usedMemoryMb: null, name: '' });
  });
});

describe('parseNvidiaSmiXml on broken input', () => {
  const valid = read('xml', 'rtx3090_driver590.44.01_v13.xml');
  test.each([
    ['empty', '', /printed nothing/],
    ['whitespace', ' \n\t\n', /printed nothing/],
    ['the driver error text', "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", /unexpected nvidia-smi output/],
    ['a cut-off document', valid.slice(0, valid.length / 2), /unexpected nvidia-smi output/],
    ['binary junk', '\u0000\u0001<\u0002>', /unexpected nvidia-smi output/],
    ['another XML document', '<?xml version="1.0" ?><html><body/></html>', /no <nvidia_smi_log>/],
    ['a log without GPUs', '<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>', /lists no GPU/],
    ['a GPU without memory figures', '<nvidia_smi_log><gpu id="0"><product_name>X</product_name></gpu></nvidia_smi_log>', /no memory figures/],
  ])('%s gives an error, never a throw', (_, text, message) => {
    const result = parseNvidiaSmiXml(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  test('an empty or missing process list is no processes', () => {
    const gpu = (processes: string) =>
      `<nvidia_smi_log><gpu id="a"><uuid>GPU-1</uuid><fb_memory_usage><total>10 MiB</total><used>1 MiB</used><free>9 MiB</free></fb_memory_usage>${processes}</gpu></nvidia_smi_log>`;
    for (const processes of ['<processes></processes>', '<processes/>', '', '<processes>\n\t\t</processes>']) {
      const result = parseNvidiaSmiXml(gpu(processes));
      expect(result.ok && result.gpus[0]?.processes).toEqual([]);
    }
  });
});

describe('CSV parsers on real captures', () => {
  test('every CSV fixture is in a table', () => {
    const known = [
      ...Object.keys(QUERY_GPU),
      ...Object.keys(COMPUTE_APPS),
      'rtx2080super-win_driver610.62_load_query-compute-apps_na-memory.csv',
      ...Object.values(H200_SAMPLER_FORM).flat(),
    ];
    expect(known.sort()).toEqual(fs.readdirSync(path.join(FIXTURES, 'csv')).sort());
  });

  test.each(Object.entries(QUERY_GPU))('%s', (file, expected) => {
    const result = parseQueryGpuCsv(read('csv', file));
    if (!result.ok) throw new Error(result.error);
    expect(result.gpus.map(summary)).toEqual([expected]);
  });

  test.each(Object.entries(COMPUTE_APPS))('%s', (file, expected) => {
    const result = parseComputeAppsCsv(read('csv', file));
    if (!result.ok) throw new Error(result.error);
    expect(result.apps.map((a) => [a.pid, a.usedMemoryMb])).toEqual(expected);
  });

  test('Windows process paths with spaces and parentheses, memory [N/A]', () => {
    const result = parseComputeAppsCsv(read('csv', 'rtx2080super-win_driver610.62_load_query-compute-apps_na-memory.csv'));
    if (!result.ok) throw new Error(result.error);
    expect(result.apps).toHaveLength(21);
    expect(result.apps.every((a) => a.usedMemoryMb === null)).toBe(true);
    expect(result.apps[9]?.name).toBe('C:\\Program Files (x86)\\Microsoft\\EdgeWebView\\Application\\149.0.4022.80\\msedgewebview2.exe');
  });
});

/** The sampler's own queries on a real H200 ([query-gpu, query-compute-apps]), and the `-q -x` of the same moment. */
const H200_SAMPLER_FORM = {
  idle: ['h200_driver580.159.04_idle_noheader_query-gpu.csv', 'h200_driver580.159.04_idle_noheader_query-compute-apps_empty.csv'],
  load: ['h200_driver580.159.04_load_noheader_query-gpu.csv', 'h200_driver580.159.04_load_noheader_query-compute-apps_2procs.csv'],
} as const;
const H200_XML = { idle: 'h200_driver580.159.04_v13_idle.xml', load: 'h200_driver580.159.04_v13_processes.xml' } as const;

describe('the sampler form captured on a real H200', () => {
  test.each(['idle', 'load'] as const)('%s: the CSV pair reads the same card as the XML of that moment', (moment) => {
    const [gpuFile, appsFile] = H200_SAMPLER_FORM[moment];
    const csv = parseNvidiaSmiCsv(read('csv', gpuFile), read('csv', appsFile));
    const xml = parseNvidiaSmiXml(read('xml', H200_XML[moment]));
    if (!csv.ok) throw new Error(csv.error);
    if (!xml.ok) throw new Error(xml.error);
    const byPid = (gpu: GpuState) => ({ ...gpu, processes: [...gpu.processes].sort((a, b) => a.pid - b.pid) });
    expect(csv.gpus.map(byPid)).toEqual(xml.gpus.map(byPid));
    expect(csv.gpus[0]?.uuid).toBe('GPU-dd9f88ca-406d-b7be-e4e8-0908ff7f70c1');
  });

  test('under load: both compute processes with their memory; no NVENC engine on an H200', () => {
    const [gpuFile, appsFile] = H200_SAMPLER_FORM.load;
    const result = parseNvidiaSmiCsv(read('csv', gpuFile), read('csv', appsFile));
    if (!result.ok) throw new Error(result.error);
    expect(result.gpus).toHaveLength(1);
    expect(result.gpus[0]).toMatchObject({ index: 0, memoryUsedMb: 24437, memoryFreeMb: 118720, utilizationPercent: 100, encoderSessions: 0, nvenc: false, migEnabled: false });
    expect(result.gpus[0]?.processes).toEqual([
      { pid: 472, usedMemoryMb: 3170, name: 'python3' },
      { pid: 471, usedMemoryMb: 21252, name: 'python3' },
    ]);
  });

  test('idle: the process query prints nothing at all, which is no process', () => {
    const [gpuFile, appsFile] = H200_SAMPLER_FORM.idle;
    expect(read('csv', appsFile)).toBe('');
    const result = parseNvidiaSmiCsv(read('csv', gpuFile), read('csv', appsFile));
    expect(result.ok && result.gpus.map((g) => [g.memoryUsedMb, g.memoryFreeMb, g.processes])).toEqual([[0, 143156, []]]);
  });
});

describe('the CSV form the sampler asks for (noheader, nounits)', () => {
  const gpus = [
    '0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA GeForce RTX 4080, 16376, 5420, 10956, 3, 1, [N/A]',
    '1, GPU-bbbbbbbb-0000-0000-0000-000000000000, NVIDIA H100 80GB HBM3, 81559, 11125, 69956, [N/A], 0, Enabled',
  ].join('\n');
  const apps = [
    'GPU-aaaaaaaa-0000-0000-0000-000000000000, 4242, 5120, python3',
    'GPU-aaaaaaaa-0000-0000-0000-000000000000, 77, 300, /opt/my, odd, tool',
    'GPU-bbbbbbbb-0000-0000-0000-000000000000, 4242, 100, python3',
  ].join('\n');

  test('puts each process under its GPU, a process on two GPUs under both', () => {
    const result = parseNvidiaSmiCsv(gpus, apps);
    if (!result.ok) throw new Error(result.error);
    expect(result.gpus.map((g) => [g.index, g.memoryFreeMb, g.utilizationPercent, g.encoderSessions, g.nvenc, g.migEnabled])).toEqual([
      [0, 10956, 3, 1, true, false],
      [1, 69956, null, 0, false, true],
    ]);
    expect(result.gpus[0]?.processes).toEqual([
      { pid: 4242, usedMemoryMb: 5120, name: 'python3' },
      { pid: 77, usedMemoryMb: 300, name: '/opt/my, odd, tool' },
    ]);
    expect(result.gpus[1]?.processes).toEqual([{ pid: 4242, usedMemoryMb: 100, name: 'python3' }]);
  });

  test.each([
    ['no GPU', '', '', /lists no GPU/],
    ['the driver error text', "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", '', /unexpected nvidia-smi output/],
    ['a short row', '0, GPU-a, X', '', /unexpected nvidia-smi output/],
    ['memory not a number', '0, GPU-a, X, [N/A], [N/A], [N/A], 0, 0, [N/A]', '', /no memory figures/],
    ['garbage processes', gpus, 'GPU-aaaaaaaa-0000-0000-0000-000000000000, abc, 1, x', /no pid/],
    ['a cut-off process row', gpus, 'GPU-aaaaaaaa-0000', /unexpected nvidia-smi output/],
  ])('%s gives an error', (_, gpuText, appsText, message) => {
    const result = parseNvidiaSmiCsv(gpuText, appsText);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  test('no compute process (empty output or header only) is an empty list', () => {
    for (const appsText of ['', '\n', 'gpu_uuid, pid, used_gpu_memory [MiB], process_name\n']) {
      const result = parseNvidiaSmiCsv(gpus, appsText);
      expect(result.ok && result.gpus.map((g) => g.processes)).toEqual([[], []]);
    }
  });
});

describe('value helpers', () => {
  test.each([
    ['NVIDIA H100 80GB HBM3', false],
    ['NVIDIA H200', false],
    ['NVIDIA H20', false],
    ['NVIDIA A100-SXM4-80GB', false],
    ['NVIDIA A30', false],
    ['NVIDIA B200', false],
    ['NVIDIA RTX A3000 Laptop GPU', true],
    ['NVIDIA L40S', true],
    ['NVIDIA A10G', true],
    ['Tesla T4', true],
    ['NVIDIA GeForce RTX 4090', true],
    ['Graphics Device', true],
  ])('%s has NVENC: %s', (name, expected) => {
    expect(hasNvencEngine(name)).toBe(expected);
  });

  test.each([
    ['1542 MiB', 1542],
    ['100 %', 100],
    ['0%', 0],
    ['28.16', 28.16],
    [' 7 ', 7],
    ['N/A', null],
    ['[N/A]', null],
    ['[Not Supported]', null],
    ['[Requested functionality has been deprecated]', null],
    ['', null],
    [undefined, null],
    ['12 GiB', null],
  ])('parseNumber(%j) is %j', (text, expected) => {
    expect(parseNumber(text)).toBe(expected);
  });
});
