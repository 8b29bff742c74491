/**
 * The runner of every kind, by name. A plain map so the executor can look a
 * kind up; `runKind` does the lookup for a context whose profile is only
 * known as the union.
 */
import type { Kind, Profile } from '../../config/config.schema.js';
import type { KindContext, KindResult, KindRunner } from '../kind.js';
import { runCommand } from './command.js';
import { runProbe } from './probe.js';
import { runTargetSize } from './target-size.js';
import { runThumbnail } from './thumbnail.js';
import { runTranscode } from './transcode.js';

export const kindRunners: { readonly [K in Kind]: KindRunner<Extract<Profile, { kind: K }>> } = {
  transcode: runTranscode,
  thumbnail: runThumbnail,
  'target-size': runTargetSize,
  probe: runProbe,
  command: runCommand,
};

/** Runs the attempt with the runner of its profile's kind. */
export function runKind(ctx: KindContext): Promise<KindResult> {
  // The map pairs each kind with the runner of that kind's profile, which TypeScript cannot follow through an index.
  const runner = kindRunners[ctx.profile.kind] as KindRunner;
  return runner(ctx);
}
