/** The console's small pure helpers, table by table. */
import { createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { sparklinePath } from '../../console/src/components/sparkline';
import { retryDelayMs } from '../../console/src/lib/appliance-link';
import { errorFromBody } from '../../console/src/lib/errors';
import { formatBytes, formatDuration } from '../../console/src/lib/format';
import { graphqlWsUrl, normaliseApplianceUrl } from '../../console/src/lib/graphql-http';
import { href, parseRoute, type Route } from '../../console/src/lib/router';
import { mergeLog } from '../../console/src/state/log-lines';
import { appendSample, sampleOf } from '../../console/src/state/sample-history';
import { createSavedAppliances, STORAGE_KEY } from '../../console/src/state/saved-appliances';
import { applianceState } from './fixtures';

describe('appliance URLs', () => {
  it.each([
    ['edge-01:7420', 'http://edge-01:7420'],
    ['http://10.0.0.5:7420/', 'http://10.0.0.5:7420'],
    ['  https://spool.example.com/edge-01/ ', 'https://spool.example.com/edge-01'],
  ])('%j → %s', (typed, url) => expect(normaliseApplianceUrl(typed)).toBe(url));

  it.each(['ftp://edge-01', 'http://', ''])('%j is refused with a sentence', (typed) => expect(() => normaliseApplianceUrl(typed)).toThrow(/URL|http/));

  it('WebSocket URL of /graphql, wss for https', () => {
    expect(graphqlWsUrl('http://edge-01:7420')).toBe('ws://edge-01:7420/graphql');
    expect(graphqlWsUrl('https://spool.example.com/edge-01')).toBe('wss://spool.example.com/edge-01/graphql');
  });
});

describe('errors in words', () => {
  it.each([
    [401, null, 'UNAUTHENTICATED', 'edge-01 does not accept this token. Edit the appliance and paste a valid one.'],
    [200, { errors: [{ message: 'job X is COMPLETED; cancel needs PENDING, PAUSED or RUNNING', extensions: { code: 'INVALID_STATE' } }] }, 'INVALID_STATE', 'job X is COMPLETED; cancel needs PENDING, PAUSED or RUNNING'],
    [403, { errors: [{ message: 'origin http://x is not allowed', extensions: { code: 'FORBIDDEN' } }] }, 'FORBIDDEN', 'origin http://x is not allowed'],
    [502, null, 'SERVER', 'edge-01 answered HTTP 502'],
  ])('HTTP %i %j', (status, body, code, message) => {
    const error = errorFromBody('edge-01', status, body);
    expect([error.code, error.message]).toEqual([code, message]);
  });
});

describe('routes in the hash', () => {
  it.each([
    ['', { name: 'fleet' }],
    ['#/', { name: 'fleet' }],
    ['#/appliances', { name: 'appliances' }],
    ['#/job/a%2Fb/01JX', { name: 'job', applianceId: 'a/b', jobId: '01JX' }],
    ['#/job/only-appliance', { name: 'fleet' }],
  ] as [string, Route][])('%j', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    if (hash.length > 2) expect(parseRoute(href(route))).toEqual(route);
  });
});

describe('reconnect waits', () => {
  it('grow from half a second to a cap of four, with up to half a second of jitter', () => {
    expect([0, 1, 2, 3, 10].map((n) => retryDelayMs(n, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(retryDelayMs(0, () => 0.999)).toBe(999);
  });
});

describe('log merging', () => {
  const l = (at: string, line: string, seq: number | null = null) => ({ seq, at, stream: 'stdout', line });
  it('appends what is new, skips what it holds, and keeps the newest lines under the cap', () => {
    const known = [l('t1', 'a', 1), l('t2', 'b', 2)];
    expect(mergeLog(known, [l('t2', 'b'), l('t3', 'c')]).map((x) => x.line)).toEqual(['a', 'b', 'c']);
    expect(mergeLog(known, [l('t3', 'c'), l('t3', 'c')]).map((x) => x.line)).toEqual(['a', 'b', 'c']);
    expect(mergeLog(known, [l('t3', 'c'), l('t4', 'd')], 3).map((x) => x.line)).toEqual(['b', 'c', 'd']);
  });
});

describe('sparklines', () => {
  it('draws 0 at the bottom and 100 at the top, with gaps where figures are missing', () => {
    expect(sparklinePath([0, 50, 100], 100, 20)).toBe('M0.0,20.0L50.0,10.0L100.0,0.0');
    expect(sparklinePath([10, null, 30, 40], 30, 10)).toBe('M0.0,9.0M20.0,7.0L30.0,6.0');
    expect(sparklinePath([], 30, 10)).toBe('');
    expect(sparklinePath([150], 30, 10)).toBe('M0.0,0.0');
  });

  it('history keeps the last five minutes of samples', () => {
    let history = appendSample([], sampleOf(applianceState(), 0));
    history = appendSample(history, sampleOf(applianceState(), 200_000));
    history = appendSample(history, sampleOf(applianceState({ cpu: { cores: 16, busyPercent: 90 } }), 301_000));
    expect(history.map((s) => s.at)).toEqual([200_000, 301_000]);
    expect(history[1]).toMatchObject({ cpuPercent: 90, memoryUsedPercent: 25, gpus: { 0: { utilizationPercent: 40, memoryUsedPercent: 25 } } });
  });
});

describe('formats', () => {
  it.each([
    [0.4, '0 s'],
    [59, '59 s'],
    [125, '2 min 5 s'],
    [7320, '2 h 2 min'],
  ])('%s s → %s', (s, text) => expect(formatDuration(s)).toBe(text));
  it.each([
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [52 * 1024 * 1024, '52 MiB'],
  ])('%i bytes → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe('saved appliances', () => {
  it('survive a reload of the page, and ignore what is not an appliance', () => {
    let n = 0;
    createRoot(() => {
      const saved = createSavedAppliances(localStorage, () => `id${++n}`);
      saved.add({ url: 'http://a:7420', token: 't1', name: 'a' });
      const b = saved.add({ url: 'http://b:7420', token: 't2', name: 'b' });
      saved.update(b.id, { token: 't3' });
    });
    const again = createRoot(() => createSavedAppliances(localStorage));
    expect(again.list()).toEqual([
      { id: 'id1', url: 'http://a:7420', token: 't1', name: 'a' },
      { id: 'id2', url: 'http://b:7420', token: 't3', name: 'b' },
    ]);
    again.remove('id1');
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY)!)).toHaveLength(1);
    localStorage.setItem(STORAGE_KEY, '{"not":"a list"}');
    expect(createRoot(() => createSavedAppliances(localStorage)).list()).toEqual([]);
  });
});
