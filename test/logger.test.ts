/**
 * The log as journald reads it: every line starts with its priority, and the
 * job and inbox fields ride on the event's first line.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../agent/logger.js';

function capture(level: LogLevel = 'info') {
  const out: { level: LogLevel; text: string }[] = [];
  return { out, logger: createLogger({ level, write: (l, text) => out.push({ level: l, text }) }) };
}

describe('logger', () => {
  it.each([
    ['error', '<3>'],
    ['warn', '<4>'],
    ['info', '<6>'],
    ['debug', '<7>'],
  ] as const)('%s lines start with %s', (level, prefix) => {
    const { out, logger } = capture('debug');
    logger[level]('something happened', { job: '01JOB', inbox: '/srv/spool/inbox/web' });
    expect(out).toEqual([{ level, text: `${prefix}something happened job=01JOB inbox=/srv/spool/inbox/web` }]);
  });

  it('leaves out lines below the level', () => {
    const { out, logger } = capture('info');
    logger.debug('noise');
    expect(out).toEqual([]);
  });

  it('quotes field values with spaces, quotes or equals signs', () => {
    const { out, logger } = capture();
    logger.info('claimed', { inbox: '/srv/my inbox', job: undefined, note: 'a="b"' });
    expect(out[0]!.text).toBe('<6>claimed inbox="/srv/my inbox" note="a=\\"b\\""');
  });

  it('keeps the priority on every line of a multi-line message, fields on the first', () => {
    const { out, logger } = capture();
    logger.error('attempt of job 01JOB broke: Error: boom\n    at run (executor.js:1:1)\r\n    at next (executor.js:2:2)', { job: '01JOB' });
    expect(out[0]!.text.split('\n')).toEqual(['<3>attempt of job 01JOB broke: Error: boom job=01JOB', '<3>      at run (executor.js:1:1)', '<3>      at next (executor.js:2:2)']);
  });
});
