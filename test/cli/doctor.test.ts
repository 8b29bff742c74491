import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorCheck } from '../../agent/cli/doctor.js';
import { parseConfig } from '../../agent/config/load-config.js';

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-doctor-'));
  fs.mkdirSync(path.join(tmp, 'inbox', 'web'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'not-a-folder'), 'x');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A config on real folders: `web` exists, `probe` is missing, and `probe`'s outbox sits under a plain file. */
function tempConfig() {
  return parseConfig(
    {
      dataDir: './data',
      profiles: { web: { kind: 'transcode' }, probe: { kind: 'probe' } },
      inboxes: [
        { path: './inbox/web', profile: 'web', outbox: './outbox/web' },
        { path: './inbox/probe', profile: 'probe', outbox: './not-a-folder/probe' },
      ],
    },
    tmp,
  );
}

/** PATH as it is, minus any folder holding a real nvidia-smi, so the test means the same on a GPU box. */
function pathWithoutNvidiaSmi(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !fs.existsSync(path.join(dir, 'nvidia-smi')))
    .join(path.delimiter);
}

async function doctor(env: NodeJS.ProcessEnv) {
  const lines: string[] = [];
  const result = await runDoctor(tempConfig(), { env, write: (line) => lines.push(line) });
  const find = (name: string): DoctorCheck => {
    const check = result.checks.find((c) => c.name === name);
    if (!check) throw new Error(`no check named ${name} in:\n${lines.join('\n')}`);
    return check;
  };
  return { ...result, lines, find };
}

describe('runDoctor', () => {
  it('passes an existing inbox and fails a missing one, naming its path', async () => {
    const { ok, checks, lines, find } = await doctor({ ...process.env, PATH: pathWithoutNvidiaSmi() });

    expect(find('inbox web')).toMatchObject({ status: 'ok' });
    expect(find('inbox probe')).toMatchObject({ status: 'fail', detail: expect.stringContaining(path.join(tmp, 'inbox', 'probe')) });
    expect(checks.find((c) => c.name === 'outbox' && c.detail.includes('outbox/web'))?.status).toBe('ok');
    expect(checks.find((c) => c.name === 'outbox' && c.detail.includes('not-a-folder'))?.status).toBe('fail');
    expect(find('dataDir')).toMatchObject({ status: 'ok' });
    expect(find('inotify').detail).toMatch(/max_user_watches \d+/);
    expect(checks.filter((c) => c.name === 'disk').every((c) => /GiB free/.test(c.detail))).toBe(true);

    expect(ok).toBe(false);
    expect(lines).toContain(`fail  inbox probe  ${path.join(tmp, 'inbox', 'probe')} does not exist`);
    expect(lines).toHaveLength(checks.length + 1);
    expect(lines.at(-1)).toMatch(/^not ready: \d+ ok, \d+ warn, [1-9]\d* fail$/);
  });

  it('reports ffmpeg, ffprobe and the encoders found', async () => {
    const { find, lines } = await doctor({ ...process.env, PATH: pathWithoutNvidiaSmi() });
    expect(find('ffmpeg')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/ \((system|npm)\) ffmpeg version /) });
    expect(find('ffprobe')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/ffprobe version /) });
    expect(find('encoders').detail).toContain('libx264');
    expect(lines.some((line) => /^ok {4}ffmpeg {2}\//.test(line))).toBe(true);
  });

  it('reports the GPUs a fake nvidia-smi first on PATH lists', async () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const fake = path.join(bin, 'nvidia-smi');
    fs.writeFileSync(fake, '#!/bin/bash\necho "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5a1b2c3d-0000-1111-2222-333344445555)"\n', { mode: 0o755 });

    const { find } = await doctor({ ...process.env, PATH: [bin, process.env.PATH].join(path.delimiter) });

    expect(find('nvidia-smi')).toEqual({
      name: 'nvidia-smi',
      status: 'ok',
      detail: `${fake} GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5a1b2c3d-0000-1111-2222-333344445555)`,
    });
  });

  it('warns that GPU jobs will wait when nvidia-smi is not on PATH', async () => {
    const { find } = await doctor({ ...process.env, PATH: pathWithoutNvidiaSmi() });
    expect(find('nvidia-smi')).toMatchObject({ status: 'warn', detail: expect.stringContaining('no GPU: GPU jobs will wait') });
  });
});
