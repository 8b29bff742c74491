/** Queries, mutations and subscriptions, under the contract's names. */
import fs from 'node:fs';
import path from 'node:path';
import { profileCategory, type SpoolConfig } from '../../config/config.schema.js';
import type { JobCursor, JobFilter } from '../../db/job-list.repository.js';
import { SpoolError } from '../../errors.js';
import type { Job } from '../../jobs/job.js';
import { builder, jobIdArg } from './builder.js';
import { ApplianceRef, JobConnectionRef, JobRef, JobStatusEnum, LogLineRef, ProfileRef, QueueStatsRef, type ProfileView } from './types.js';

const DEFAULT_PAGE = 50;

/** Opaque to clients: base64url of "<createdAt>:<id>" of the last job of a page. */
export function encodeCursor(job: Pick<Job, 'createdAt' | 'id'>): string {
  return Buffer.from(`${job.createdAt}:${job.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): JobCursor {
  const match = /^(\d+):([0-9A-Za-z]+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new SpoolError('BAD_USER_INPUT', `"after" is not a cursor this API gave out: ${JSON.stringify(cursor.slice(0, 80))}`);
  return { createdAt: Number(match[1]), id: match[2]! };
}

function parseTime(name: string, value: string | null | undefined): number | undefined {
  if (value == null) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new SpoolError('BAD_USER_INPUT', `${name} must be an ISO 8601 time such as 2026-11-25T14:00:00Z, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * `submitJob` may only name files in an inbox or under `server.inputRoots`:
 * the API must not become a way to read (or move) any file the agent's user
 * can reach. Real paths are compared, so `..` and symlinks cannot step out.
 */
async function assertSubmittable(config: SpoolConfig, inputPath: string): Promise<string> {
  if (!path.isAbsolute(inputPath)) throw new SpoolError('BAD_USER_INPUT', `inputPath must be absolute, got ${JSON.stringify(inputPath)}`);
  const real = await fs.promises.realpath(inputPath).catch(() => {
    throw new SpoolError('BAD_USER_INPUT', `${inputPath} does not exist or cannot be read`);
  });
  const realOf = (p: string) => fs.promises.realpath(p).catch(() => path.resolve(p));
  const inboxes = await Promise.all(config.inboxes.map((i) => realOf(i.path)));
  if (inboxes.includes(path.dirname(real))) return inputPath;
  for (const root of await Promise.all(config.server.inputRoots.map(realOf))) {
    if (real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) return inputPath;
  }
  throw new SpoolError('BAD_USER_INPUT', `${inputPath} is outside the inboxes and the input roots (server.inputRoots); move it into an inbox or add its folder to server.inputRoots`);
}

builder.queryType({
  fields: (t) => ({
    appliance: t.field({ type: ApplianceRef, resolve: (_root, _args, ctx) => ctx.services.appliance() }),
    jobs: t.field({
      type: JobConnectionRef,
      description: 'Jobs, newest first, filtered; page on with `after: pageInfo.endCursor`.',
      args: {
        first: t.arg.int({ description: `Page size; default ${DEFAULT_PAGE}, at most server.maxPageSize.` }),
        after: t.arg.string(),
        status: t.arg({ type: [JobStatusEnum] }),
        profile: t.arg.string(),
        search: t.arg.string({ description: 'Text in the file name (case-insensitive).' }),
        createdFrom: t.arg.string({ description: 'Created at or after this ISO 8601 time.' }),
        createdBefore: t.arg.string({ description: 'Created before this ISO 8601 time.' }),
      },
      resolve: async (_root, args, ctx) => {
        const max = ctx.services.config().server.maxPageSize;
        const first = args.first ?? DEFAULT_PAGE;
        if (first < 0 || first > max) throw new SpoolError('BAD_USER_INPUT', `first must be from 0 to ${max} (server.maxPageSize), got ${first}`);
        if (args.search != null && args.search.length > 200) throw new SpoolError('BAD_USER_INPUT', 'search is limited to 200 characters');
        const filter: JobFilter = {
          status: args.status ?? undefined,
          profile: args.profile ?? undefined,
          search: args.search ?? undefined,
          createdFrom: parseTime('createdFrom', args.createdFrom),
          createdBefore: parseTime('createdBefore', args.createdBefore),
        };
        const page = await ctx.services.queries.page(filter, first, args.after ? decodeCursor(args.after) : undefined);
        const edges = page.jobs.map((job) => ({ cursor: encodeCursor(job), node: job }));
        return {
          edges,
          pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: args.after != null, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
          filter,
        };
      },
    }),
    job: t.field({
      type: JobRef,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, args, ctx) => (await ctx.services.queries.byIds([jobIdArg(args.id)]))[0] ?? null,
    }),
    queueStats: t.field({ type: QueueStatsRef, resolve: (_root, _args, ctx) => ctx.services.queries.counts() }),
    profiles: t.field({
      type: [ProfileRef],
      resolve: (_root, _args, ctx): ProfileView[] => {
        const config = ctx.services.config();
        return Object.entries(config.profiles).map(([name, p]) => ({
          name,
          kind: p.kind,
          category: profileCategory(p),
          priority: p.priority,
          maxAttempts: p.maxAttempts,
          vramMb: p.vramMb,
          inboxes: config.inboxes.filter((i) => i.profile === name).map((i) => i.path),
          learned: ctx.services.estimator.learned(name) ?? null,
        }));
      },
    }),
  }),
});

const SubmitJobInput = builder.inputType('SubmitJobInput', {
  fields: (t) => ({
    profile: t.string({ required: true }),
    inputPath: t.string({ required: true, description: 'Absolute path of a file in an inbox (claimed like a dropped file) or under server.inputRoots (read in place).' }),
    priority: t.int({ description: '1 (highest) to 10; default: the profile\u2019s.' }),
    dependsOn: t.idList({ description: 'Jobs that must complete first.' }),
    runAt: t.string({ description: 'Do not start before this ISO 8601 time.' }),
  }),
});

builder.mutationType({
  description: 'Every mutation needs the operator role.',
  fields: (t) => ({
    submitJob: t.field({
      type: JobRef,
      args: { input: t.arg({ type: SubmitJobInput, required: true }) },
      resolve: async (_root, { input }, ctx) => {
        const inputPath = await assertSubmittable(ctx.services.config(), input.inputPath);
        return ctx.services.jobs.submit({
          profile: input.profile,
          inputPath,
          priority: input.priority,
          dependsOn: input.dependsOn?.map(jobIdArg),
          runAt: parseTime('runAt', input.runAt),
        });
      },
    }),
    cancelJob: t.field({ type: JobRef, args: { id: t.arg.id({ required: true }) }, resolve: (_r, args, ctx) => ctx.services.jobs.cancel(jobIdArg(args.id)) }),
    retryJob: t.field({ type: JobRef, args: { id: t.arg.id({ required: true }) }, resolve: (_r, args, ctx) => ctx.services.jobs.retry(jobIdArg(args.id)) }),
    pauseJob: t.field({ type: JobRef, args: { id: t.arg.id({ required: true }) }, resolve: (_r, args, ctx) => ctx.services.jobs.pause(jobIdArg(args.id)) }),
    resumeJob: t.field({ type: JobRef, args: { id: t.arg.id({ required: true }) }, resolve: (_r, args, ctx) => ctx.services.jobs.resume(jobIdArg(args.id)) }),
    setJobPriority: t.field({
      type: JobRef,
      args: { id: t.arg.id({ required: true }), priority: t.arg.int({ required: true }) },
      resolve: (_r, args, ctx) => ctx.services.jobs.setPriority(jobIdArg(args.id), args.priority),
    }),
    pauseQueue: t.field({
      type: ApplianceRef,
      resolve: async (_r, _a, ctx) => {
        await ctx.services.jobs.pauseQueue();
        return ctx.services.appliance();
      },
    }),
    resumeQueue: t.field({
      type: ApplianceRef,
      resolve: async (_r, _a, ctx) => {
        await ctx.services.jobs.resumeQueue();
        return ctx.services.appliance();
      },
    }),
  }),
});

async function requireExisting(ctx: { services: { queries: { byIds(ids: string[]): Promise<(Job | undefined)[]> } } }, id: string): Promise<void> {
  if (!(await ctx.services.queries.byIds([id]))[0]) throw new SpoolError('NOT_FOUND', `no job with id ${id}`);
}

builder.subscriptionType({
  fields: (t) => ({
    jobUpdated: t.field({
      type: JobRef,
      description: 'One job, or every job when id is omitted; on every state or progress change. A slow client gets the latest state of each job, not every tick.',
      args: { id: t.arg.id() },
      subscribe: async (_root, args, ctx) => {
        const id = args.id == null ? null : jobIdArg(args.id);
        if (id !== null) await requireExisting(ctx, id);
        return ctx.services.live.jobUpdates(id);
      },
      resolve: (job) => job,
    }),
    jobLog: t.field({
      type: LogLineRef,
      description: 'Lines as the job writes them (from now on; read earlier ones with Job.log).',
      args: { id: t.arg.id({ required: true }) },
      subscribe: async (_root, args, ctx) => {
        await requireExisting(ctx, jobIdArg(args.id));
        return ctx.services.live.jobLog(jobIdArg(args.id));
      },
      resolve: (line) => line,
    }),
    applianceUpdated: t.field({
      type: ApplianceRef,
      description: 'The current state first, then on every sample.',
      subscribe: (_root, _args, ctx) => ctx.services.live.appliance(),
      resolve: (state) => state,
    }),
  }),
});
