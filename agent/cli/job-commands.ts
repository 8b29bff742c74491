/**
 * `spool submit`, `jobs`, `job`, `cancel|retry|pause|resume`, `priority` and
 * `queue pause|resume`: one request each to the agent's API. A refusal
 * (INVALID_STATE, NOT_FOUND …) arrives as a CommandError with the agent's
 * sentence and leaves through the dispatcher as exit 1.
 */
import path from 'node:path';
import { integerArg, requiredFlag, statusList, stringFlag, writeJson, type CommandSpec } from './command.js';
import { JOB_DETAIL_FIELDS, JOB_SUMMARY_FIELDS, jobDetails, jobsTable, type JobDetails, type JobSummary } from './job-format.js';
import { CommandError, EXIT } from './remote.js';

const submit: CommandSpec = {
  name: 'submit',
  usage: 'FILE --profile P [--priority N] [--depends-on ID]... [--json]',
  summary: 'queue FILE (in an inbox or under server.inputRoots) for profile P; prints the job id and status',
  options: {
    profile: { type: 'string', short: 'p' },
    priority: { type: 'string' },
    'depends-on': { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  args: { min: 1, max: 1, names: 'FILE' },
  remote: true,
  async run({ values, args, remote, stdout, cwd }) {
    const profile = requiredFlag(values, 'profile', 'web');
    const priority = integerArg('--priority', stringFlag(values, 'priority'), 1, 10);
    // The agent resolves nothing relative to its own folder: send the path as the operator meant it.
    const inputPath = path.resolve(cwd, args[0]!);
    const dependsOn = (values['depends-on'] as string[] | undefined) ?? [];
    const { submitJob } = await remote().request<{ submitJob: JobSummary }>(
      `mutation($input: SubmitJobInput!) { submitJob(input: $input) { ${JOB_SUMMARY_FIELDS} } }`,
      { input: { profile, inputPath, priority, dependsOn: dependsOn.length > 0 ? dependsOn : undefined } },
    );
    if (values.json) writeJson(stdout, submitJob);
    else stdout.write(`${submitJob.id} ${submitJob.status}\n`);
    return EXIT.ok;
  },
};

const jobs: CommandSpec = {
  name: 'jobs',
  usage: '[--status S[,S]] [--profile P] [--search TEXT] [--limit N] [--json]',
  summary: 'list jobs, newest first: id, status, profile, progress, file, why it waits or failed',
  options: {
    status: { type: 'string', short: 's', multiple: true },
    profile: { type: 'string', short: 'p' },
    search: { type: 'string' },
    limit: { type: 'string', short: 'n' },
    json: { type: 'boolean' },
  },
  args: { min: 0, max: 0, names: '' },
  remote: true,
  async run({ values, remote, stdout }) {
    const status = statusList(values.status as string[] | undefined);
    const first = integerArg('--limit', stringFlag(values, 'limit'), 1, 10_000) ?? 50;
    const { jobs: page } = await remote().request<{ jobs: { totalCount: number; edges: { node: JobSummary }[] } }>(
      `query($first: Int, $status: [JobStatus!], $profile: String, $search: String) {
        jobs(first: $first, status: $status, profile: $profile, search: $search) { totalCount edges { node { ${JOB_SUMMARY_FIELDS} } } }
      }`,
      { first, status, profile: stringFlag(values, 'profile'), search: stringFlag(values, 'search') },
    );
    const list = page.edges.map((e) => e.node);
    if (values.json) {
      writeJson(stdout, list);
      return EXIT.ok;
    }
    if (list.length === 0) {
      stdout.write('no jobs match\n');
      return EXIT.ok;
    }
    stdout.write(jobsTable(list, stdout.isTTY ? stdout.columns : undefined));
    if (page.totalCount > list.length) stdout.write(`(${list.length} of ${page.totalCount}; --limit shows more, --status, --profile and --search narrow it)\n`);
    return EXIT.ok;
  },
};

const job: CommandSpec = {
  name: 'job',
  usage: 'ID [--log N] [--json]',
  summary: 'one job in full: state, attempts and the last log lines',
  options: { log: { type: 'string' }, json: { type: 'boolean' } },
  args: { min: 1, max: 1, names: 'ID' },
  remote: true,
  async run({ values, args, remote, stdout }) {
    const last = integerArg('--log', stringFlag(values, 'log'), 0, 5000) ?? 20;
    const { job: found } = await remote().request<{ job: JobDetails | null }>(`query($id: ID!, $last: Int) { job(id: $id) { ${JOB_DETAIL_FIELDS} log(last: $last) { at stream line } } }`, { id: args[0], last });
    if (!found) throw new CommandError(EXIT.failed, `no job with id ${args[0]}`, { code: 'NOT_FOUND' });
    if (values.json) writeJson(stdout, found);
    else stdout.write(jobDetails(found));
    return EXIT.ok;
  },
};

/** `spool cancel ID` and its siblings: one mutation on one job, then its new status. */
function jobAction(name: string, mutation: string, summary: string): CommandSpec {
  return {
    name,
    usage: 'ID',
    summary,
    options: {},
    args: { min: 1, max: 1, names: 'ID' },
    remote: true,
    async run({ args, remote, stdout }) {
      const data = await remote().request<Record<string, { id: string; status: string }>>(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id: args[0] });
      const changed = data[mutation]!;
      stdout.write(`${changed.id} ${changed.status}\n`);
      return EXIT.ok;
    },
  };
}

const priority: CommandSpec = {
  name: 'priority',
  usage: 'ID N',
  summary: 'set a job\u2019s priority, 1 (highest) to 10',
  options: {},
  args: { min: 2, max: 2, names: 'ID N' },
  remote: true,
  async run({ args, remote, stdout }) {
    const value = integerArg('N', args[1], 1, 10)!;
    const { setJobPriority } = await remote().request<{ setJobPriority: { id: string; priority: number; status: string } }>(
      'mutation($id: ID!, $priority: Int!) { setJobPriority(id: $id, priority: $priority) { id priority status } }',
      { id: args[0], priority: value },
    );
    stdout.write(`${setJobPriority.id} priority ${setJobPriority.priority}\n`);
    return EXIT.ok;
  },
};

function queueAction(action: 'pause' | 'resume'): CommandSpec {
  const mutation = action === 'pause' ? 'pauseQueue' : 'resumeQueue';
  return {
    name: `queue ${action}`,
    usage: '',
    summary: action === 'pause' ? 'start no new jobs (running ones go on)' : 'start jobs again',
    options: {},
    args: { min: 0, max: 0, names: '' },
    remote: true,
    async run({ remote, stdout }) {
      const data = await remote().request<Record<string, { queuePaused: boolean }>>(`mutation { ${mutation} { queuePaused } }`);
      const paused = data[mutation]!.queuePaused;
      if (paused !== (action === 'pause')) throw new CommandError(EXIT.failed, `the agent answered that the queue is ${paused ? 'still paused' : 'not paused'}`);
      stdout.write(paused ? 'queue paused: no new jobs start; running jobs go on\n' : 'queue resumed\n');
      return EXIT.ok;
    },
  };
}

export const JOB_COMMANDS: CommandSpec[] = [
  submit,
  jobs,
  job,
  jobAction('cancel', 'cancelJob', 'cancel a pending, paused or running job (its source is kept)'),
  jobAction('retry', 'retryJob', 'put a failed or cancelled job back in the queue'),
  jobAction('pause', 'pauseJob', 'pause a pending or running job'),
  jobAction('resume', 'resumeJob', 'resume a paused job (a running one continues where it stopped)'),
  priority,
  queueAction('pause'),
  queueAction('resume'),
];
