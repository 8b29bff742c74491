/**
 * A job's live log. The subscription starts first and the tail is read
 * after, so no line falls between the two; the view follows the tail until
 * the operator scrolls up, and "Load earlier lines" reads further back.
 */
import { createEffect, createSignal, on, onCleanup, Show, type Component } from 'solid-js';
import { describeError } from '../lib/errors';
import { JOB_LOG, JOB_LOG_TAIL } from '../lib/operations';
import type { LogLine } from '../lib/types';
import type { FleetMember } from '../state/fleet-member';
import { MAX_LOG_LINES, mergeLog } from '../state/log-lines';
import { VirtualList } from './virtual-list';

const LINE_HEIGHT = 18;
const FIRST_TAIL = 300;

export const JobLog: Component<{ member: FleetMember; jobId: string; fileName: string }> = (props) => {
  const [lines, setLines] = createSignal<LogLine[]>([]);
  const [follow, setFollow] = createSignal(true);
  const [tailSize, setTailSize] = createSignal(FIRST_TAIL);
  const [error, setError] = createSignal<string | null>(null);
  let viewport: HTMLDivElement | undefined;
  /** Lines that streamed in before the tail was read, merged once it arrives. */
  let early: LogLine[] = [];
  let tailRead = false;

  /** Reads the last `last` lines; they replace what is shown, plus whatever streamed in during the read. */
  const readTail = async (last: number) => {
    tailRead = false;
    try {
      const data = await props.member.link.request<{ job: { log: LogLine[] } | null }>(JOB_LOG_TAIL, { id: props.jobId, last });
      setLines(mergeLog(data.job?.log ?? [], early));
      early = [];
      tailRead = true;
      setError(null);
    } catch (e) {
      // Keep showing what we have; live lines go on appending.
      setLines((known) => mergeLog(known, early));
      early = [];
      tailRead = true;
      setError(describeError(e));
    }
  };

  const stop = props.member.link.subscribe<{ jobLog: LogLine }>(JOB_LOG, { id: props.jobId }, (data) => {
    if (tailRead) setLines((known) => mergeLog(known, [data.jobLog]));
    else early.push(data.jobLog);
  });
  // After a reconnect, lines written meanwhile are only in the database.
  const offConnected = props.member.link.onConnected(() => void readTail(tailSize()));
  onCleanup(() => {
    stop();
    offConnected();
  });
  void readTail(FIRST_TAIL);

  const loadEarlier = () => {
    const next = Math.min(MAX_LOG_LINES, tailSize() + 1000);
    setTailSize(next);
    setFollow(false);
    void readTail(next);
  };

  createEffect(
    on([lines, follow], () => {
      if (follow() && viewport) viewport.scrollTop = viewport.scrollHeight;
    }),
  );

  const onScroll = () => {
    if (!viewport) return;
    setFollow(viewport.scrollHeight - viewport.scrollTop - viewport.clientHeight < LINE_HEIGHT * 2);
  };

  return (
    <div class="log">
      <div class="log-tools">
        <label>
          <input type="checkbox" checked={follow()} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow the end of the log
        </label>
        <button type="button" onClick={loadEarlier} disabled={tailSize() >= MAX_LOG_LINES || lines().length < tailSize()}>
          Load earlier lines
        </button>
        <span class="muted">{lines().length.toLocaleString()} lines</span>
      </div>
      <Show when={error()}>
        <p class="problem">Could not read the log: {error()}</p>
      </Show>
      <VirtualList
        items={lines()}
        rowHeight={LINE_HEIGHT}
        label={`Log of ${props.fileName}`}
        class="log-lines"
        fallbackHeight={320}
        overscan={20}
        viewportRef={(element) => {
          viewport = element;
          element.addEventListener('scroll', onScroll);
        }}
      >
        {(line) => (
          <div class={`log-line log-${line.stream}`}>
            <span class="log-time">{line.at.slice(11, 19)}</span> {line.line}
          </div>
        )}
      </VirtualList>
    </div>
  );
};
