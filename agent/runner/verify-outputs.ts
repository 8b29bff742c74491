/**
 * Output verification: ffmpeg exits 0 on half a Matroska file (its header
 * declares the full duration, the rest is simply not there yet), so an exit
 * status alone cannot say that a job processed the whole input. Every output
 * of a media kind is opened with ffprobe, and a transcode or target-size
 * output must last as long as the input declared.
 */
import path from 'node:path';
import { probeMedia } from '../media/ffprobe.js';
import type { MediaTools } from '../media/locate.js';
import { AttemptError } from './process.js';

/** Kinds whose outputs are media that ffprobe must be able to open. */
const MEDIA_KINDS = new Set(['transcode', 'target-size', 'thumbnail']);
/** Kinds whose output covers the whole input, so its duration must match. */
const FULL_LENGTH_KINDS = new Set(['transcode', 'target-size']);

/**
 * How far an output's duration may fall short of the input's declared one:
 * encoder priming, the last partial frame and audio padding move it by a
 * fraction of a second; half a file moves it by half.
 */
export function durationTolerance(inputSeconds: number): number {
  return Math.max(0.5, inputSeconds * 0.03);
}

export interface VerifyInput {
  kind: string;
  tools: Pick<MediaTools, 'ffprobe'>;
  /** Output files in staging. */
  outputs: readonly string[];
  /** The input's declared duration, as the kind read it; null when unknown. */
  inputSeconds: number | null | undefined;
  signal?: AbortSignal;
}

/**
 * Throws AttemptError('bad_input') when an output cannot be opened or is
 * shorter than the input declared. The caller decides whether the input is
 * bad or only not fully written yet.
 */
export async function verifyOutputs({ kind, tools, outputs, inputSeconds, signal }: VerifyInput): Promise<void> {
  if (!MEDIA_KINDS.has(kind)) return;
  for (const output of outputs) {
    const name = path.basename(output);
    let seconds: number | null;
    try {
      seconds = (await probeMedia(tools.ffprobe.path, output, { signal, timeoutMs: 30_000, name })).durationSeconds;
    } catch (error) {
      if (error instanceof AttemptError && error.kind !== 'bad_input') throw error;
      throw new AttemptError('bad_input', `the output ${name} cannot be opened (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!FULL_LENGTH_KINDS.has(kind) || inputSeconds === null || inputSeconds === undefined || inputSeconds <= 0) continue;
    if (seconds === null || seconds < inputSeconds - durationTolerance(inputSeconds)) {
      const got = seconds === null ? 'no duration' : `${seconds.toFixed(2)} s`;
      throw new AttemptError('bad_input', `the output ${name} is short: ${got} of the ${inputSeconds.toFixed(2)} s the input declares`);
    }
  }
}
