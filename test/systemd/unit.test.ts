/**
 * systemd/spool-agent.service: the settings the agent relies on, systemd's
 * own verifier, and the exposure score of `systemd-analyze security` held at
 * the level recorded in BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../agent/config/config.schema.js';

const UNIT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../systemd/spool-agent.service');
/** The exposure score this unit reached; a change that raises it must be a decision, not an accident. */
const RECORDED_EXPOSURE = 1.8;

const analyzeMissing = spawnSync('systemd-analyze', ['--version']).error ? 'systemd-analyze is not installed (Debian package systemd; .ci/run installs it)' : null;

/** [Section] → key → every value given (a key may repeat). */
function readUnit(): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current = new Map<string, string[]>();
  for (const raw of fs.readFileSync(UNIT, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

function seconds(value: string): number {
  const match = /^(\d+)(s|min)?$/.exec(value);
  if (!match) throw new Error(`cannot read the time span ${value}`);
  return Number(match[1]) * (match[2] === 'min' ? 60 : 1);
}

describe('spool-agent.service', () => {
  const unit = readUnit();
  const service = unit.get('Service')!;
  const one = (key: string) => {
    const values = service.get(key);
    expect(values, key).toHaveLength(1);
    return values![0]!;
  };

  it('is Type=notify with NotifyAccess=all (the helper process sends READY=1) and a watchdog', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all');
    expect(seconds(one('WatchdogSec'))).toBeGreaterThanOrEqual(10);
  });

  it('gives the graceful stop more time than the agent takes by default, and SIGTERM only to the agent', () => {
    const defaults = configSchema.parse({}).jobs;
    const agentNeeds = defaults.stopDeadlineSeconds + defaults.killGraceSeconds;
    // Room to close the API and the database after the attempts are stopped.
    expect(seconds(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(agentNeeds + 20);
    expect(one('KillMode')).toBe('mixed');
  });

  it('restarts on failure with limits, but not on a bad config (exit 78)', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')).toBe('78');
    expect(Number(unit.get('Unit')!.get('StartLimitBurst')![0])).toBeGreaterThan(0);
    expect(seconds(unit.get('Unit')!.get('StartLimitIntervalSec')![0]!)).toBeGreaterThan(0);
  });

  it('runs as spool with its state and config directories and the GPU devices and groups', () => {
    expect(one('User')).toBe('spool');
    expect(one('StateDirectory')).toBe('spool');
    expect(one('ConfigurationDirectory')).toBe('spool');
    expect(one('SupplementaryGroups').split(/\s+/)).toEqual(['video', 'render']);
    expect(one('DevicePolicy')).toBe('closed');
    expect(service.get('DeviceAllow')).toEqual(['char-nvidia-frontend rw', 'char-nvidia-uvm rw', 'char-nvidia-caps rw', 'char-drm rw']);
    expect(one('ExecStart')).toMatch(/ agent --config \/etc\/spool\/spool\.yaml$/);
  });

  it('leaves V8 its writable-executable memory and its address space', () => {
    for (const key of ['MemoryDenyWriteExecute', 'LimitAS', 'PrivateDevices', 'PrivateUsers']) expect(service.has(key), key).toBe(false);
  });

  describe.skipIf(analyzeMissing !== null)(`checked by systemd${analyzeMissing ? ` (skipped: ${analyzeMissing})` : ''}`, () => {
    it('passes systemd-analyze verify', () => {
      // ExecStart names the wrapper install.sh writes; verify wants it to exist, so it points at a stand-in.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-unit-'));
      try {
        const wrapper = path.join(dir, 'spool');
        fs.writeFileSync(wrapper, '#!/bin/sh\n', { mode: 0o755 });
        const copy = path.join(dir, 'spool-agent.service');
        fs.writeFileSync(copy, fs.readFileSync(UNIT, 'utf8').replace(/^ExecStart=\/opt\/spool\/bin\/spool /m, `ExecStart=${wrapper} `));
        const result = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
        expect({ status: result.status, output: (result.stdout + result.stderr).trim() }).toEqual({ status: 0, output: '' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`keeps the exposure score of systemd-analyze security at ${RECORDED_EXPOSURE} or below`, () => {
      const result = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT], { encoding: 'utf8' });
      const score = /Overall exposure level for spool-agent\.service: (\d+\.\d+) (\w+)/.exec(result.stdout);
      expect(score, result.stdout + result.stderr).not.toBeNull();
      expect(Number(score![1])).toBeLessThanOrEqual(RECORDED_EXPOSURE);
      expect(score![2]).toBe('OK');
    });
  });
});
