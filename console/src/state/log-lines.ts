/**
 * A job's log as the job page shows it: the tail read with Job.log, then
 * the lines jobLog streams. A line can arrive both ways (written while the
 * tail was being read), so lines are matched by time, stream and text.
 */
import type { LogLine } from '../lib/types';

/** Lines the page keeps; the API gives at most 5,000 per read too. */
export const MAX_LOG_LINES = 5000;

const lineKey = (l: LogLine) => `${l.at}\u0000${l.stream}\u0000${l.line}`;

/** `known` followed by the lines of `incoming` it does not hold yet, the oldest dropped past the cap. */
export function mergeLog(known: readonly LogLine[], incoming: readonly LogLine[], cap = MAX_LOG_LINES): LogLine[] {
  const seen = new Set(known.map(lineKey));
  const added = incoming.filter((l) => {
    const key = lineKey(l);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const merged = added.length === 0 ? [...known] : [...known, ...added];
  return merged.length > cap ? merged.slice(merged.length - cap) : merged;
}
