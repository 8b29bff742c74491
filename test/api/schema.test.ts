/** schema/ holds the SDL the code serves; a stale file fails here. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSpoolSchema } from '../../agent/api/schema/index.js';
import { schemaFile } from '../../agent/api/schema/print.js';

describe('schema/spool.graphql', () => {
  it('matches the schema the code builds (run `npm run schema` after changing it)', () => {
    expect(fs.readFileSync(schemaFile(), 'utf8'), 'schema/spool.graphql is stale: run `npm run schema`').toBe(printSpoolSchema());
  });

  it('has every name of the contract', () => {
    const sdl = printSpoolSchema();
    for (const name of [
      'enum JobStatus', 'enum ResourceCategory', 'appliance: Appliance!', 'jobs(', 'job(id: ID!): Job', 'queueStats: QueueStats!', 'profiles: [Profile!]!',
      'submitJob(input: SubmitJobInput!): Job!', 'cancelJob(id: ID!): Job!', 'retryJob(id: ID!): Job!', 'pauseJob(id: ID!): Job!', 'resumeJob(id: ID!): Job!',
      'setJobPriority(id: ID!, priority: Int!): Job!', 'pauseQueue: Appliance!', 'resumeQueue: Appliance!',
      'jobUpdated(id: ID): Job!', 'jobLog(id: ID!): LogLine!', 'applianceUpdated: Appliance!', 'type JobConnection', 'totalCount: Int!',
    ]) {
      expect(sdl, name).toContain(name);
    }
  });
});
