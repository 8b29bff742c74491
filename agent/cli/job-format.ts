/**
 * How jobs read on a terminal: the `spool jobs` table, the `spool job`
 * details, and the one-line progress view `spool watch` redraws. Pure
 * functions of the API's answers, so the output can be checked without an
 * agent.
 */

/** The job fields every listing asks for. */
export const JOB_SUMMARY_FIELDS = 'id status profile priority progress fps speed etaSeconds waitingReason error fileName inputPath';

export interface JobSummary {
  id: string;
  status: string;
  profile: string;
  priority: number;
  progress: number | null;
  fps: number | null;
  speed: number | null;
  etaSeconds: number | null;
  waitingReason: string | null;
  error: string | null;
  fileName: string;
  inputPath: string;
}

export const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** `42%`, or `-` before the first figure. */
export function percent(progress: number | null): string {
  if (progress == null) return '-';
  // Floored, so 100% means done and never "99.6 rounded up".
  return `${Math.floor(progress)}%`;
}

/** `1h02m`, `3m05s`, `12s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO time from the API in the operator's local time, to the second. */
export function localTime(iso: string | null, withDate = true): string {
  if (!iso) return '-';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}` : time;
}

/** What the operator needs to know next to the status: why it waits, or why it failed. */
export function jobNote(job: Pick<JobSummary, 'status' | 'waitingReason' | 'error'>): string {
  if (job.error && (job.status === 'FAILED' || job.status === 'CANCELLED' || job.status === 'PENDING')) return job.error;
  return job.waitingReason ?? '';
}

/** Cuts a line to `width` characters so a terminal never wraps it (a wrapped line breaks the redraw). */
export function fit(line: string, width: number | undefined): string {
  if (!width || line.length <= width) return line;
  return width > 1 ? `${line.slice(0, width - 1)}…` : line.slice(0, width);
}

/** Rows under a header, columns as wide as their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][], width?: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    fit(
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
      width,
    );
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function jobsTable(jobs: JobSummary[], width?: number): string {
  return table(
    ['ID', 'STATUS', 'PROFILE', 'PROGRESS', 'FILE', 'NOTE'],
    jobs.map((j) => [j.id, j.status, j.profile, j.status === 'RUNNING' || j.status === 'PAUSED' || j.status === 'COMPLETED' ? percent(j.progress) : '', j.fileName, jobNote(j)]),
    width,
  );
}

/** `[#########...........]`: ASCII for logs and pipes, block characters on a terminal. */
export function bar(progress: number | null, cells: number, unicode: boolean): string {
  const filled = progress == null ? 0 : Math.min(cells, Math.max(0, Math.round((progress / 100) * cells)));
  const [full, empty] = unicode ? ['█', '░'] : ['#', '.'];
  return `[${full.repeat(filled)}${empty.repeat(cells - filled)}]`;
}

/** Rate and time left of a running job: `30 fps  1.5x  eta 1m05s`. */
export function rates(job: Pick<JobSummary, 'fps' | 'speed' | 'etaSeconds'>): string {
  const parts: string[] = [];
  if (job.fps != null) parts.push(`${Math.round(job.fps)} fps`);
  if (job.speed != null) parts.push(`${job.speed.toFixed(job.speed < 10 ? 2 : 1)}x`);
  if (job.etaSeconds != null) parts.push(`eta ${duration(job.etaSeconds)}`);
  return parts.join('  ');
}

/** One job as `spool watch` shows it. */
export function watchLine(job: JobSummary, unicode: boolean): string {
  const head = `${job.id}  ${job.status.padEnd(9)}`;
  switch (job.status) {
    case 'RUNNING':
    case 'PAUSED':
      return [head, bar(job.progress, 24, unicode), percent(job.progress).padStart(6), rates(job), job.fileName].filter(Boolean).join('  ');
    case 'COMPLETED':
      return `${head}  ${bar(100, 24, unicode)}    100%  ${job.fileName}`;
    default: {
      const note = jobNote(job);
      return `${head}  ${job.fileName}${note ? `  — ${note}` : ''}`;
    }
  }
}

export interface JobDetails extends JobSummary {
  kind: string;
  category: string;
  attempts: number;
  maxAttempts: number;
  sourcePath: string;
  errorKind: string | null;
  runAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  gpuIndex: number | null;
  encoder: string | null;
  dependsOn: { id: string; status: string }[];
  outputs: { path: string; sizeBytes: number }[];
  attemptHistory: {
    number: number;
    startedAt: string;
    finishedAt: string | null;
    outcome: string | null;
    exitCode: number | null;
    signal: string | null;
    error: string | null;
    encoder: string | null;
    gpuIndex: number | null;
    peakRssMb: number | null;
    peakVramMb: number | null;
  }[];
  log: { at: string; stream: string; line: string }[];
}

export const JOB_DETAIL_FIELDS = `${JOB_SUMMARY_FIELDS} kind category attempts maxAttempts sourcePath errorKind runAt createdAt startedAt finishedAt gpuIndex encoder
  dependsOn { id status } outputs { path sizeBytes }
  attemptHistory { number startedAt finishedAt outcome exitCode signal error encoder gpuIndex peakRssMb peakVramMb }`;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  for (; value >= 1024 && unit < units.length - 1; unit += 1) value /= 1024;
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function seconds(from: string, to: string | null): string {
  return to ? duration((Date.parse(to) - Date.parse(from)) / 1000) : 'running';
}

export function jobDetails(job: JobDetails): string {
  const rows: [string, string][] = [
    ['id', job.id],
    ['status', `${job.status} (attempt ${job.attempts} of ${job.maxAttempts})`],
    // The category is the concurrency slot the profile queues in (config's
    // spelling); where an attempt actually ran is in its DETAIL column.
    ['profile', `${job.profile} (${job.kind}, category ${job.category.toLowerCase()})`],
    ['priority', String(job.priority)],
    ['input', job.inputPath],
  ];
  if (job.sourcePath !== job.inputPath) rows.push(['source now', job.sourcePath]);
  if (job.status === 'RUNNING' || job.status === 'PAUSED') rows.push(['progress', [percent(job.progress), rates(job)].filter(Boolean).join('  ')]);
  if (job.waitingReason) rows.push(['waiting', job.waitingReason]);
  if (job.error) rows.push(['error', job.errorKind ? `${job.error} (${job.errorKind})` : job.error]);
  if (job.dependsOn.length > 0) rows.push(['depends on', job.dependsOn.map((d) => `${d.id} (${d.status})`).join(', ')]);
  if (job.runAt) rows.push(['not before', localTime(job.runAt)]);
  if (job.gpuIndex != null) rows.push(['gpu', `${job.gpuIndex}${job.encoder ? ` (${job.encoder})` : ''}`]);
  for (const output of job.outputs) rows.push(['output', `${output.path} (${size(output.sizeBytes)})`]);
  rows.push(['created', localTime(job.createdAt)], ['started', localTime(job.startedAt)], ['finished', localTime(job.finishedAt)]);
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  let text = rows.map(([label, value]) => `${label.padEnd(labelWidth)}  ${value}`).join('\n') + '\n';

  if (job.attemptHistory.length > 0) {
    text += '\nAttempts:\n';
    text += table(
      ['#', 'STARTED', 'TOOK', 'OUTCOME', 'EXIT', 'PEAK RSS', 'DETAIL'],
      job.attemptHistory.map((a) => [
        String(a.number),
        localTime(a.startedAt),
        seconds(a.startedAt, a.finishedAt),
        a.outcome ?? 'running',
        a.signal ?? (a.exitCode == null ? '-' : String(a.exitCode)),
        a.peakRssMb == null ? '-' : `${a.peakRssMb} MB`,
        a.error ?? (a.gpuIndex != null ? `on gpu ${a.gpuIndex}${a.encoder ? ` (${a.encoder})` : ''}` : a.encoder ? `on ${a.encoder}` : ''),
      ]),
    )
      .split('\n')
      .map((l) => (l ? `  ${l}` : l))
      .join('\n');
  }
  if (job.log.length > 0) {
    text += `\nLast ${job.log.length} log line${job.log.length === 1 ? '' : 's'}:\n`;
    text += job.log.map((l) => `  ${localTime(l.at, false)} ${l.stream.padEnd(6)} ${l.line}`).join('\n') + '\n';
  }
  return text;
}
