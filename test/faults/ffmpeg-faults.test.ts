/**
 * Tools that crash or hang. A wrapper `ffmpeg` first on PATH makes the first
 * transcode of each test die by SIGSEGV mid-encode, or hang without writing
 * progress; every later call runs the real ffmpeg. The job must complete on
 * a later attempt with one output, the fault named in its history.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../agent/media/locate.js';
import { must, serverConfig, TOKENS } from '../helpers/api.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { listFiles, makeTempDir, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent;
let wrapperDir: string;
const originalPath = process.env.PATH;

beforeAll(async () => {
  const real = (await getMediaTools()).ffmpeg.path;
  wrapperDir = makeTempDir();
  const script = `#!/bin/sh
# Fault-injecting ffmpeg: the first transcode (a call with -progress) after
# "armed" appears crashes or hangs; every other call is the real ffmpeg.
case " $* " in *" -progress "*)
  if [ -e "${wrapperDir}/armed" ]; then
    mode=$(cat "${wrapperDir}/armed"); rm -f "${wrapperDir}/armed"
    if [ "$mode" = segv ]; then (sleep 0.3; kill -SEGV $$) & exec "${real}" "$@"; fi
    if [ "$mode" = hang ]; then exec sleep 3600; fi
  fi;;
esac
exec "${real}" "$@"
`;
  fs.writeFileSync(path.join(wrapperDir, 'ffmpeg'), script, { mode: 0o755 });
  fs.symlinkSync((await getMediaTools()).ffprobe.path, path.join(wrapperDir, 'ffprobe'));
  // The agent finds its tools on PATH once, at start; this test file runs in its own process.
  process.env.PATH = `${wrapperDir}${path.delimiter}${originalPath}`;
  expect(findOnPath('ffmpeg')).toBe(path.join(wrapperDir, 'ffmpeg'));
  t = await startTestAgent({
    server: serverConfig(),
    jobs: { backoffBaseSeconds: 0.2, backoffMaxSeconds: 0.5, killGraceSeconds: 1 },
    profiles: { web: { kind: 'transcode', encoder: 'cpu', stallTimeoutSeconds: 3, maxAttempts: 3, video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } } },
  });
  expect(t.agent.tools.ffmpeg.path).toBe(path.join(wrapperDir, 'ffmpeg'));
});
afterAll(async () => {
  process.env.PATH = originalPath;
  await t?.stop();
});

async function run(name: string, mode: 'segv' | 'hang') {
  fs.writeFileSync(path.join(wrapperDir, 'armed'), mode);
  const staging = path.join(t.dir, `src-${name}`);
  await makeClip(staging, { seconds: 20 });
  fs.renameSync(staging, path.join(t.inbox('web'), name));
  const id = await t.waitForClaim(name);
  await t.waitForStatus(id, ['COMPLETED', 'FAILED'], 90_000);
  const { job } = await must(url(), TOKENS.viewer, 'query($id: ID!) { job(id: $id) { status attempts error outputs { path } attemptHistory { number outcome signal error } log(last: 200) { line } } }', { id });
  return job;
}
const url = () => t.agent.api.url();

describe('ffmpeg faults', () => {
  it('killed by SIGSEGV mid-encode: retried, completes with one output, the signal in its history and log', async () => {
    const job = await run('segv clip.mkv', 'segv');
    expect(job.status, JSON.stringify(job.attemptHistory)).toBe('COMPLETED');
    expect(job.attempts).toBe(2);
    expect(job.attemptHistory[0].signal).toBe('SIGSEGV');
    expect(JSON.stringify(job.attemptHistory[0])).toMatch(/SIGSEGV/);
    expect(job.log.map((l: { line: string }) => l.line).join('\n')).toMatch(/SIGSEGV/);
    expect(job.outputs).toHaveLength(1);
    expect(listFiles(t.outbox('web'))).toEqual(['segv clip.mp4']);
  });

  it('hung without progress: stopped after the stall timeout and retried', async () => {
    const job = await run('hang clip.mkv', 'hang');
    expect(job.status, JSON.stringify(job.attemptHistory)).toBe('COMPLETED');
    expect(job.attempts).toBe(2);
    expect(job.attemptHistory[0].error).toMatch(/no progress|stall/i);
    expect(job.outputs).toHaveLength(1);
    expect(listFiles(t.outbox('web'))).toEqual(['hang clip.mp4', 'segv clip.mp4']);
  });
});
