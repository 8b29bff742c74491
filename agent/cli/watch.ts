/**
 * `spool watch [ID]`: live progress from the `jobUpdated` subscription.
 *
 * On a terminal, one line per running job is redrawn in place and a job
 * that finishes leaves a line above them; into a pipe or a file, a line is
 * appended when a job changes state or passes another tenth of its work,
 * so a log stays readable. With an ID it follows that job and exits when
 * it finishes: 0 when it completed, 1 when it failed or was cancelled.
 */
import { EXIT, CommandError, type ExitCode } from './remote.js';
import type { CommandContext, CommandSpec } from './command.js';
import { FINAL, fit, JOB_SUMMARY_FIELDS, localTime, watchLine, type JobSummary } from './job-format.js';

/**
 * How often a followed job is read again while no update arrives.
 * `jobUpdated` does not send the current state first, and the WebSocket
 * acknowledges the connection, not the subscription: an update that lands
 * between the snapshot and the subscription taking effect would otherwise
 * be missed, and a finished job watched for ever.
 */
const RECHECK_MS = 5_000;
/** Redraws on a terminal at most this often; the agent already coalesces updates per job. */
const REDRAW_MS = 100;

const ESC = '\x1b[';

interface WatchView {
  update(job: JobSummary): void;
  close(): void;
}

/** Redraws a block of lines, one per running job, below the lines of jobs that finished. */
function terminalView(stdout: NodeJS.WriteStream, focus: string | null): WatchView {
  const live = new Map<string, JobSummary>();
  const finished = new Set<string>();
  let above: string[] = [];
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;

  const render = () => {
    timer = undefined;
    const width = Math.max(20, (stdout.columns || 80) - 1);
    const lines = [...live.values()].map((job) => fit(watchLine(job, true), width));
    if (lines.length === 0 && focus === null) lines.push(fit('no job is running; waiting for work (Ctrl-C to stop)', width));
    // Back to the first line of the block, erase it and what is below, write it again.
    let out = drawn > 0 ? `${ESC}${drawn}F${ESC}0J` : '';
    out += above.map((line) => `${fit(line, width)}\n`).join('');
    out += lines.map((line) => `${line}\n`).join('');
    stdout.write(out);
    above = [];
    drawn = lines.length;
  };
  const schedule = () => (timer ??= setTimeout(render, REDRAW_MS));

  stdout.write(`${ESC}?25l`);
  schedule();
  return {
    update(job) {
      if (FINAL.has(job.status)) {
        if (live.delete(job.id) || !finished.has(job.id)) above.push(watchLine(job, true));
        finished.add(job.id);
      } else if (focus !== null || job.status === 'RUNNING' || job.status === 'PAUSED') {
        live.set(job.id, job);
      } else if (live.delete(job.id)) {
        // Back to PENDING (a retry after a transient failure, or an interrupted attempt): worth a line.
        above.push(watchLine(job, true));
      }
      schedule();
    },
    close() {
      clearTimeout(timer);
      render();
      stdout.write(`${ESC}?25h`);
    },
  };
}

/** Appends a line per state change and per tenth of progress: for pipes, files and journals. */
function appendingView(stdout: NodeJS.WriteStream): WatchView {
  const last = new Map<string, string>();
  return {
    update(job) {
      const step = job.status === 'RUNNING' && job.progress != null ? Math.floor(job.progress / 10) : -1;
      const key = `${job.status}|${step}|${job.waitingReason ?? ''}|${job.error ?? ''}`;
      if (last.get(job.id) === key) return;
      last.set(job.id, key);
      stdout.write(`${localTime(new Date().toISOString(), false)}  ${watchLine(job, false)}\n`);
    },
    close() {},
  };
}

async function runWatch(ctx: CommandContext): Promise<ExitCode> {
  const focus = ctx.args[0] ?? null;
  const remote = ctx.remote();
  const view = ctx.stdout.isTTY ? terminalView(ctx.stdout, focus) : appendingView(ctx.stdout);

  let settle: { done: (code: ExitCode) => void; fail: (error: unknown) => void } = { done: () => undefined, fail: () => undefined };
  let over = false;
  const outcome = new Promise<ExitCode>((resolve, reject) => {
    settle = {
      done: (code) => ((over = true), resolve(code)),
      fail: (error) => ((over = true), reject(error)),
    };
  });
  const show = (job: JobSummary) => {
    if (over || (focus !== null && job.id !== focus)) return;
    view.update(job);
    if (focus !== null && FINAL.has(job.status)) settle.done(job.status === 'COMPLETED' ? EXIT.ok : EXIT.failed);
  };
  // Ctrl-C is how a watch of every job ends: a normal end, not a failure.
  const interrupt = () => settle.done(EXIT.ok);
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let recheck: NodeJS.Timeout | undefined;

  try {
    const live = remote.subscribe<{ jobUpdated: JobSummary }>(`subscription($id: ID) { jobUpdated(id: $id) { ${JOB_SUMMARY_FIELDS} } }`, { id: focus }, (data) => show(data.jobUpdated));
    live.ended.then(
      () => settle.fail(new CommandError(EXIT.unreachable, `the agent at ${remote.url} ended the live updates (is it stopping?)`)),
      (error: unknown) => settle.fail(error),
    );
    // Subscribed first, then the current state: an update in between arrives, at worst, twice.
    const snapshot = async () => {
      await Promise.race([live.connected, outcome]);
      if (focus !== null) {
        const { job } = await remote.request<{ job: JobSummary | null }>(`query($id: ID!) { job(id: $id) { ${JOB_SUMMARY_FIELDS} } }`, { id: focus });
        if (!job) throw new CommandError(EXIT.failed, `no job with id ${focus}`, { code: 'NOT_FOUND' });
        show(job);
      } else {
        const { jobs } = await remote.request<{ jobs: { edges: { node: JobSummary }[] } }>(`{ jobs(first: 100, status: [RUNNING, PAUSED]) { edges { node { ${JOB_SUMMARY_FIELDS} } } } }`);
        // In a log, say when the watch began; on a terminal the idle line says it.
        if (!ctx.stdout.isTTY) ctx.stdout.write(`${localTime(new Date().toISOString(), false)}  watching every job on ${remote.url}; Ctrl-C stops\n`);
        for (const edge of [...jobs.edges].reverse()) show(edge.node);
      }
    };
    snapshot().catch((error: unknown) => settle.fail(error));
    if (focus !== null) {
      recheck = setInterval(() => {
        remote
          .request<{ job: JobSummary | null }>(`query($id: ID!) { job(id: $id) { ${JOB_SUMMARY_FIELDS} } }`, { id: focus })
          .then(({ job }) => job && FINAL.has(job.status) && show(job))
          .catch((error: unknown) => settle.fail(error));
      }, RECHECK_MS);
    }
    return await outcome;
  } finally {
    clearInterval(recheck);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    view.close();
  }
}

export const WATCH_COMMAND: CommandSpec = {
  name: 'watch',
  usage: '[ID]',
  summary: 'live progress bars of running jobs; with ID, follow that job until it finishes (exit 0 completed, 1 failed or cancelled)',
  options: {},
  args: { min: 0, max: 1, names: 'ID' },
  remote: true,
  run: runWatch,
};
