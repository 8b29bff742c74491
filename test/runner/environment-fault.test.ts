/**
 * Which failures are the box's (a full, read-only, forbidden or missing
 * outbox) and which are the job's, and how output verification tells half
 * an output from a whole one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { environmentFault, faultCode } from '../../agent/runner/environment-fault.js';
import { AttemptError } from '../../agent/runner/process.js';
import { verifyOutputs } from '../../agent/runner/verify-outputs.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { makeTempDir } from '../helpers/test-agent.js';

const errno = (code: string, p?: string) => Object.assign(new Error(`${code}: failed`), { code, path: p });

describe('faultCode', () => {
  it.each([
    [errno('ENOSPC'), 'ENOSPC'],
    [errno('EROFS'), 'EROFS'],
    [new AttemptError('transient', 'ffmpeg exited with code 1', { stderrTail: ['av_interleaved_write_frame(): No space left on device'] }), 'ENOSPC'],
    [new AttemptError('transient', 'x', { stderrTail: ['file:/srv/out/a.mp4: Read-only file system'] }), 'EROFS'],
    [new AttemptError('transient', 'x', { stderrTail: ['Disk quota exceeded'] }), 'EDQUOT'],
    [new AttemptError('bad_input', 'ffprobe cannot read a.mp4: Invalid data found when processing input'), null],
    [errno('ENOENT'), null],
  ])('%s → %s', (error, code) => {
    expect(faultCode(error)).toBe(code);
  });
});

describe('environmentFault', () => {
  it('a permission error on a writable outbox is not the outbox (an unreadable input is the job\'s)', async () => {
    const outbox = makeTempDir();
    const error = new AttemptError('transient', 'x', { stderrTail: ['file:/work/in.mp4: Permission denied'] });
    expect(await environmentFault(error, [{ label: 'outbox', path: outbox }])).toBeNull();
    expect(fs.readdirSync(outbox)).toEqual([]);
  });

  it('a missing outbox is named as missing', async () => {
    const outbox = path.join(makeTempDir(), 'gone');
    expect(await environmentFault(errno('ENOENT', path.join(outbox, '.spool-tmp')), [{ label: 'outbox', path: outbox }])).toBe(`outbox ${outbox} is missing (unmounted or removed?)`);
  });

  it('ENOSPC with plenty of space everywhere is not blamed on a place', async () => {
    expect(await environmentFault(new AttemptError('transient', 'x', { stderrTail: ['No space left on device'] }), [{ label: 'outbox', path: makeTempDir() }])).toBeNull();
  });
});

describe('verifyOutputs', () => {
  let dir: string;
  let tools: Awaited<ReturnType<typeof getMediaTools>>;
  beforeAll(async () => {
    tools = await getMediaTools();
    dir = makeTempDir();
    await makeClip(path.join(dir, 'two.mkv'), { seconds: 2 });
  });

  it('an output as long as the input passes; one half as long is short', async () => {
    const output = [path.join(dir, 'two.mkv')];
    await expect(verifyOutputs({ kind: 'transcode', tools, outputs: output, inputSeconds: 2 })).resolves.toBeUndefined();
    await expect(verifyOutputs({ kind: 'transcode', tools, outputs: output, inputSeconds: 4 })).rejects.toThrow(/is short: 2\.\d+ s of the 4\.00 s/);
  });

  it('an output that does not open fails; a command\'s outputs are not media and are not probed', async () => {
    const junk = path.join(dir, 'junk.mp4');
    fs.writeFileSync(junk, 'not media');
    await expect(verifyOutputs({ kind: 'thumbnail', tools, outputs: [junk], inputSeconds: null })).rejects.toMatchObject({ kind: 'bad_input' });
    await expect(verifyOutputs({ kind: 'command', tools, outputs: [junk], inputSeconds: 2 })).resolves.toBeUndefined();
  });
});
