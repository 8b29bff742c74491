/** The object types of the schema: jobs and what hangs off them, the appliance, profiles. */
import { JOB_STATUSES, type Job, type JobOutput } from '../../jobs/job.js';
import type { Attempt, LogLine } from '../../jobs/job-queries.js';
import type { Learned } from '../../scheduler/estimates.js';
import type { GpuProcess, GpuState } from '../../samplers/gpu-snapshot.js';
import { SpoolError } from '../../errors.js';
import type { ApplianceState } from '../appliance.js';
import { builder, iso } from './builder.js';

export const JobStatusEnum = builder.enumType('JobStatus', { values: JOB_STATUSES });

export const ResourceCategoryEnum = builder.enumType('ResourceCategory', {
  values: {
    CPU: { value: 'cpu' as const, description: 'runs on the CPU' },
    GPU_ENCODE: { value: 'gpu_encode' as const, description: 'NVENC/NVDEC video work' },
    GPU_AI: { value: 'gpu_ai' as const, description: 'CUDA work such as an AI tagger' },
  },
});

/** Largest `log(last:)` any request may ask for. */
export const MAX_LOG_LINES = 5000;

export const LogLineRef = builder.objectRef<LogLine>('LogLine').implement({
  description: 'One line of a job\u2019s log. stream: "stderr" (the process\u2019s standard error, where ffmpeg reports), "agent" (what Spool wrote about the attempt, and a command\u2019s standard output), "spool" (a note from the API, such as skipped lines).',
  fields: (t) => ({
    seq: t.int({ nullable: true, description: 'Position in the job log, for `log(after:)`; null on a line streamed live before it was stored.', resolve: (l) => l.seq }),
    at: t.string({ resolve: (l) => iso(l.at)! }),
    stream: t.exposeString('stream'),
    line: t.exposeString('line'),
  }),
});

export const JobOutputRef = builder.objectRef<JobOutput>('JobOutput').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Absolute path of the finished file in the outbox.' }),
    sizeBytes: t.float({ resolve: (o) => o.sizeBytes }),
  }),
});

export const AttemptRef = builder.objectRef<Attempt>('Attempt').implement({
  description: 'One run of a job: its outcome and what it used.',
  fields: (t) => ({
    number: t.exposeInt('number'),
    startedAt: t.string({ resolve: (a) => iso(a.startedAt)! }),
    finishedAt: t.string({ nullable: true, resolve: (a) => iso(a.finishedAt) }),
    outcome: t.string({ nullable: true, description: 'completed, failed, retry, interrupted, cancelled …; null while it runs.', resolve: (a) => a.outcome }),
    exitCode: t.int({ nullable: true, resolve: (a) => a.exitCode }),
    signal: t.string({ nullable: true, resolve: (a) => a.signal }),
    errorKind: t.string({ nullable: true, resolve: (a) => a.errorKind }),
    error: t.string({ nullable: true, resolve: (a) => a.error }),
    encoder: t.string({ nullable: true, resolve: (a) => a.encoder }),
    gpuIndex: t.int({ nullable: true, resolve: (a) => a.gpuIndex }),
    peakRssMb: t.float({ nullable: true, resolve: (a) => (a.peakRssBytes === null ? null : Math.round(a.peakRssBytes / 1048576)) }),
    cpuSeconds: t.float({ nullable: true, resolve: (a) => a.cpuSeconds }),
    peakVramMb: t.float({ nullable: true, resolve: (a) => a.peakVramMb }),
  }),
});

export const JobRef = builder.loadableNode('Job', {
  description: 'One unit of work: one input file run by one profile.',
  id: { resolve: (job: Job) => job.id },
  load: async (ids: string[], ctx) => (await ctx.services.queries.byIds(ids)).map((job, i) => job ?? new SpoolError('NOT_FOUND', `no job with id ${ids[i]}`)),
  fields: (t) => ({
    status: t.field({ type: JobStatusEnum, resolve: (j) => j.status }),
    profile: t.exposeString('profile'),
    kind: t.exposeString('kind', { description: 'transcode | thumbnail | target-size | probe | command' }),
    category: t.field({ type: ResourceCategoryEnum, resolve: (j) => j.category }),
    priority: t.exposeInt('priority', { description: '1 (highest) to 10.' }),
    progress: t.float({
      nullable: true,
      description: '0–100; null before the first attempt starts (or when the duration is unknown); 100 once COMPLETED.',
      resolve: (j) => (j.status === 'COMPLETED' ? 100 : j.progress),
    }),
    etaSeconds: t.float({ nullable: true, resolve: (j) => (j.status === 'RUNNING' ? j.etaSeconds : null) }),
    fps: t.float({ nullable: true, resolve: (j) => j.fps }),
    speed: t.float({ nullable: true, description: 'Media seconds per wall second.', resolve: (j) => j.speed }),
    waitingReason: t.string({ nullable: true, description: 'Why a pending job is not running yet, in words.', resolve: (j) => (j.status === 'PENDING' || j.status === 'PAUSED' ? j.waitingReason : null) }),
    attempts: t.exposeInt('attempts', { description: 'Attempts started so far.' }),
    maxAttempts: t.exposeInt('maxAttempts'),
    inputPath: t.exposeString('inputPath', { description: 'The absolute path the file had when it was dropped or submitted.' }),
    sourcePath: t.exposeString('sourcePath', { description: 'Where the input is now (work area, done/, failed/, cancelled/).' }),
    fileName: t.string({ resolve: (j) => j.inputPath.slice(j.inputPath.lastIndexOf('/') + 1) }),
    sizeBytes: t.float({ resolve: (j) => j.sizeBytes }),
    outputs: t.field({ type: [JobOutputRef], resolve: (j) => j.outputs }),
    error: t.string({ nullable: true, resolve: (j) => j.error }),
    errorKind: t.string({ nullable: true, description: 'bad_input | transient | internal | dependency | cancelled', resolve: (j) => j.errorKind }),
    log: t.field({
      type: [LogLineRef],
      description: 'The last `last` lines (oldest first); with `after` (a seq), up to `last` lines after it; with `before`, the `last` lines before it.',
      args: { last: t.arg.int({ defaultValue: 100 }), after: t.arg.int(), before: t.arg.int() },
      resolve: (job, args, ctx) => {
        const last = args.last ?? 100;
        if (last < 0 || last > MAX_LOG_LINES) throw new SpoolError('BAD_USER_INPUT', `log(last:) must be from 0 to ${MAX_LOG_LINES}, got ${last}`);
        if (args.after != null) return ctx.services.queries.logAfter(job.id, args.after, last);
        if (args.before != null) return ctx.services.queries.logBefore(job.id, args.before, last);
        return ctx.loader<string, LogLine[]>(`log:${last}`, (ids) => ctx.services.queries.lastLogLines(ids, last)).load(job.id);
      },
    }),
    attemptHistory: t.field({
      type: [AttemptRef],
      description: 'Every attempt, oldest first, with its error and resource use.',
      resolve: (job, _args, ctx) => ctx.loader<string, Attempt[]>('attempts', (ids) => ctx.services.queries.attempts(ids)).load(job.id),
    }),
    gpuIndex: t.int({ nullable: true, resolve: (j) => j.gpuIndex }),
    encoder: t.string({ nullable: true, resolve: (j) => j.encoder }),
    runAt: t.string({ nullable: true, description: 'The job does not start before this time.', resolve: (j) => iso(j.runAfter) }),
    createdAt: t.string({ resolve: (j) => iso(j.createdAt)! }),
    startedAt: t.string({ nullable: true, resolve: (j) => iso(j.startedAt) }),
    finishedAt: t.string({ nullable: true, resolve: (j) => iso(j.finishedAt) }),
    updatedAt: t.string({ resolve: (j) => iso(j.updatedAt)! }),
  }),
});

// Fields that point back at jobs, added once the type exists.
builder.objectFields(JobRef, (t) => ({
  dependsOn: t.field({ type: [JobRef], description: 'Jobs that must complete before this one starts.', resolve: (j) => j.dependsOn }),
  parent: t.field({ type: JobRef, nullable: true, description: 'The job whose output this follow-on job works on.', resolve: (j) => j.parentId }),
  followOns: t.field({
    type: [JobRef],
    description: 'Jobs made from this job\u2019s outputs by the profile\u2019s `then:`.',
    resolve: (job, _args, ctx) => ctx.loader<string, Job[]>('followOns', (ids) => ctx.services.queries.followOns(ids)).load(job.id),
  }),
}));

export const JobConnectionRef = builder.connectionObject(
  {
    type: JobRef,
    name: 'JobConnection',
    fields: (t) => ({
      totalCount: t.int({
        description: 'Jobs matching the filter, across all pages.',
        resolve: (connection, _args, ctx) => ctx.services.queries.count((connection as unknown as { filter: Parameters<typeof ctx.services.queries.count>[0] }).filter),
      }),
    }),
  },
  { name: 'JobEdge' },
);

const GpuProcessRef = builder.objectRef<GpuProcess>('GpuProcess').implement({
  fields: (t) => ({
    pid: t.exposeInt('pid'),
    name: t.exposeString('name'),
    usedMemoryMb: t.float({ nullable: true, resolve: (p) => p.usedMemoryMb }),
  }),
});

const GpuRef = builder.objectRef<GpuState>('Gpu').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    uuid: t.exposeString('uuid'),
    name: t.exposeString('name'),
    memoryTotalMb: t.float({ resolve: (g) => g.memoryTotalMb }),
    memoryUsedMb: t.float({ resolve: (g) => g.memoryUsedMb }),
    memoryFreeMb: t.float({ resolve: (g) => g.memoryFreeMb }),
    utilizationPercent: t.float({ nullable: true, resolve: (g) => g.utilizationPercent }),
    encoderSessions: t.int({ nullable: true, resolve: (g) => g.encoderSessions }),
    nvenc: t.exposeBoolean('nvenc', { description: 'Whether the card has an NVENC engine.' }),
    migEnabled: t.exposeBoolean('migEnabled'),
    processes: t.field({ type: [GpuProcessRef], description: 'Every process holding memory on this GPU, ours or not.', resolve: (g) => g.processes }),
  }),
});

const CpuRef = builder.objectRef<ApplianceState['cpu']>('Cpu').implement({
  fields: (t) => ({
    cores: t.exposeInt('cores'),
    busyPercent: t.float({ nullable: true, description: 'Busy share of all cores over the last sample; null before two samples exist.', resolve: (c) => c.busyPercent }),
  }),
});

const MemoryRef = builder.objectRef<ApplianceState['memory']>('Memory').implement({
  fields: (t) => ({
    totalMb: t.float({ resolve: (m) => m.totalMb }),
    availableMb: t.float({ resolve: (m) => m.availableMb }),
  }),
});

const InboxRef = builder.objectRef<ApplianceState['inboxes'][number]>('Inbox').implement({
  fields: (t) => ({
    path: t.exposeString('path'),
    profile: t.exposeString('profile'),
    outbox: t.exposeString('outbox'),
    ok: t.exposeBoolean('ok', { description: 'Watched and readable.' }),
    error: t.string({ nullable: true, resolve: (i) => i.error }),
  }),
});

export const ApplianceRef = builder.objectRef<ApplianceState>('Appliance').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version'),
    hostname: t.exposeString('hostname'),
    queuePaused: t.exposeBoolean('queuePaused'),
    gpus: t.field({ type: [GpuRef], description: 'From the latest live nvidia-smi sample; empty when there is none (see gpuError).', resolve: (a) => a.gpus }),
    gpuError: t.string({ nullable: true, description: 'Why there are no live GPU figures (no nvidia-smi, failing or stale sample).', resolve: (a) => a.gpuError }),
    gpuSampledAt: t.string({ nullable: true, resolve: (a) => iso(a.gpuSampledAt) }),
    cpu: t.field({ type: CpuRef, resolve: (a) => a.cpu }),
    memory: t.field({ type: MemoryRef, resolve: (a) => a.memory }),
    inboxes: t.field({ type: [InboxRef], resolve: (a) => a.inboxes }),
    startedAt: t.string({ resolve: (a) => iso(a.startedAt)! }),
  }),
});

export interface ProfileView {
  name: string;
  kind: string;
  category: 'cpu' | 'gpu_encode' | 'gpu_ai';
  priority: number;
  maxAttempts: number;
  vramMb: number;
  inboxes: string[];
  learned: Learned | null;
}

const LearnedRef = builder.objectRef<Learned>('LearnedUsage').implement({
  description: 'What completed attempts of a profile used (a high percentile over recent runs); admission plans with these.',
  fields: (t) => ({
    samples: t.exposeInt('samples', { description: 'Completed attempts the figures come from.' }),
    vramMb: t.float({ nullable: true, resolve: (l) => l.vramMb }),
    cpuCores: t.float({ nullable: true, resolve: (l) => l.cpuCores }),
    rssMb: t.float({ nullable: true, resolve: (l) => l.rssMb }),
    outputRatio: t.float({ nullable: true, description: 'Output bytes per input byte.', resolve: (l) => l.outputRatio }),
    speed: t.float({ nullable: true, description: 'Media seconds per wall second.', resolve: (l) => l.speed }),
    secondsPerMb: t.float({ nullable: true, description: 'Wall seconds per input MB.', resolve: (l) => l.secondsPerMb }),
  }),
});

export const ProfileRef = builder.objectRef<ProfileView>('Profile').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.exposeString('kind'),
    category: t.field({ type: ResourceCategoryEnum, resolve: (p) => p.category }),
    priority: t.exposeInt('priority'),
    maxAttempts: t.exposeInt('maxAttempts'),
    vramMb: t.float({ description: 'Declared VRAM need; learned figures may raise it.', resolve: (p) => p.vramMb }),
    inboxes: t.stringList({ resolve: (p) => p.inboxes }),
    learned: t.field({ type: LearnedRef, nullable: true, description: 'Null until an attempt of this profile completed.', resolve: (p) => p.learned }),
  }),
});

export const QueueStatsRef = builder.objectRef<Record<(typeof JOB_STATUSES)[number], number>>('QueueStats').implement({
  fields: (t) => ({
    pending: t.int({ resolve: (c) => c.PENDING }),
    running: t.int({ resolve: (c) => c.RUNNING }),
    paused: t.int({ resolve: (c) => c.PAUSED }),
    completed: t.int({ resolve: (c) => c.COMPLETED }),
    failed: t.int({ resolve: (c) => c.FAILED }),
    cancelled: t.int({ resolve: (c) => c.CANCELLED }),
    total: t.int({ resolve: (c) => Object.values(c).reduce((a, b) => a + b, 0) }),
  }),
});
