/**
 * Reads what `ffmpeg -progress pipe:1` writes: blocks of `key=value` lines,
 * each closed by `progress=continue` (or `progress=end` for the last one).
 * The stream arrives in chunks that may split a line, or even a `\r\n`,
 * anywhere, so the parser keeps the unfinished tail between pushes.
 *
 * Format quirks the parser and `toJobProgress` allow for (see
 * test/fixtures/SOURCES.md): ffmpeg before ~4.1 wrote only `out_time_ms`,
 * which despite its name holds microseconds; values may be space-padded
 * (`speed=   2x`) or `N/A`; early blocks can carry a negative `out_time`.
 */
import type { JobProgress } from '../jobs/job.js';

export interface ProgressBlock {
  /** Every `key=value` of the block, keys and values trimmed, in the order ffmpeg wrote them. */
  fields: Readonly<Record<string, string>>;
  /** True for the block that ends with `progress=end`. */
  end: boolean;
}

export interface ProgressParser {
  /** Feeds the next piece of stdout; complete blocks are handed to `onBlock` at once. */
  push(chunk: string): void;
}

/** Past this, a "line" is not progress output; dropping it bounds memory on garbage input. */
const MAX_PENDING = 64 * 1024;

export function createProgressParser(onBlock: (block: ProgressBlock) => void): ProgressParser {
  let pending = '';
  let fields: Record<string, string> = {};

  const takeLine = (line: string) => {
    const at = line.indexOf('=');
    if (at <= 0) return;
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    fields[key] = value;
    if (key !== 'progress') return;
    const block: ProgressBlock = { fields, end: value === 'end' };
    fields = {};
    onBlock(block);
  };

  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split(/\r\n|\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) takeLine(line);
      if (pending.length > MAX_PENDING) pending = '';
    },
  };
}

/** A number from a field, or null for `N/A`, blanks and garbage. */
function numberField(value: string | undefined): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (!/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(trimmed)) return null;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : null;
}

/** `HH:MM:SS.micro` as seconds; ffmpeg can print a negative time before the first frame. */
function clockField(value: string | undefined): number | null {
  const match = /^(-?)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(value?.trim() ?? '');
  if (!match) return null;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
  return match[1] === '-' ? -seconds : seconds;
}

/** How far into the media the output has got, in seconds, or null when the block does not say. */
export function outTimeSeconds(block: ProgressBlock): number | null {
  const micros = numberField(block.fields.out_time_us) ?? numberField(block.fields.out_time_ms);
  const seconds = micros !== null ? micros / 1e6 : clockField(block.fields.out_time);
  return seconds !== null && seconds >= 0 ? seconds : null;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * A block as the job's progress. Percent and ETA need the media duration;
 * the ETA is the media time still to encode divided by the encoding speed,
 * so it is only known once ffmpeg reports a non-zero speed.
 */
export function toJobProgress(block: ProgressBlock, durationSeconds: number | null): JobProgress {
  const fps = numberField(block.fields.fps);
  const speedValue = numberField(block.fields.speed?.replace(/x$/i, ''));
  const speed = speedValue !== null && speedValue >= 0 ? speedValue : null;
  if (block.end) {
    return { percent: 100, fps, speed, etaSeconds: 0 };
  }
  const done = outTimeSeconds(block);
  const known = durationSeconds !== null && durationSeconds > 0 && done !== null;
  const percent = known ? round1(Math.min(100, Math.max(0, (done / durationSeconds) * 100))) : null;
  const etaSeconds = known && speed !== null && speed > 0 ? round1(Math.max(0, durationSeconds - done) / speed) : null;
  return { percent, fps, speed, etaSeconds };
}
