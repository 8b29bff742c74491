/**
 * probe: ffprobe's JSON about the input becomes the job's result, for
 * scripts that catalogue media; it writes no output files.
 */
import type { Profile } from '../../config/config.schema.js';
import type { KindContext, KindRunner } from '../kind.js';
import { FINISHED, probeInput } from './run-ffmpeg.js';

export type ProbeProfile = Extract<Profile, { kind: 'probe' }>;

export const runProbe: KindRunner<ProbeProfile> = async (ctx: KindContext<ProbeProfile>) => {
  const info = await probeInput(ctx);
  ctx.progress(FINISHED);
  return { result: info.raw, mediaSeconds: info.durationSeconds };
};
