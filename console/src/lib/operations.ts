/**
 * Every GraphQL document the console sends, in one place, so a change to the
 * API shows up here and nowhere else. Only names of the public API are used.
 */

const JOB_SUMMARY = `id status profile kind priority progress etaSeconds fps speed waitingReason fileName inputPath
  attempts maxAttempts error createdAt updatedAt finishedAt`;

const JOB_REF = 'id fileName status profile';

export const APPLIANCE_FIELDS = `name version hostname queuePaused
  gpus { index uuid name memoryTotalMb memoryUsedMb memoryFreeMb utilizationPercent encoderSessions }
  gpuError cpu { cores busyPercent } memory { totalMb availableMb } inboxes { path profile ok error }`;

export const APPLIANCE_NAME = '{ appliance { name } }';

export const APPLIANCE_UPDATED = `subscription { applianceUpdated { ${APPLIANCE_FIELDS} } }`;

export const OVERVIEW = '{ queueStats { pending running paused completed failed cancelled } profiles { name kind } }';

export const QUEUE_STATS = '{ queueStats { pending running paused completed failed cancelled } }';

export const JOBS_PAGE = `query($first: Int!, $after: String) {
  jobs(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${JOB_SUMMARY} } } }
}`;

export const JOBS_UPDATED = `subscription { jobUpdated { ${JOB_SUMMARY} } }`;

export const JOB_DETAIL = `query($id: ID!) {
  job(id: $id) {
    ${JOB_SUMMARY} category sourcePath sizeBytes errorKind gpuIndex encoder runAt startedAt
    outputs { path sizeBytes }
    attemptHistory { number startedAt finishedAt outcome exitCode signal errorKind error encoder gpuIndex peakRssMb cpuSeconds peakVramMb }
    dependsOn { ${JOB_REF} } followOns { ${JOB_REF} } parent { ${JOB_REF} }
  }
}`;

export const JOB_UPDATED = `subscription($id: ID!) { jobUpdated(id: $id) { ${JOB_SUMMARY} } }`;

export const JOB_LOG_TAIL = 'query($id: ID!, $last: Int!) { job(id: $id) { log(last: $last) { seq at stream line } } }';

export const JOB_LOG_AFTER = 'query($id: ID!, $after: Int!, $last: Int!) { job(id: $id) { log(after: $after, last: $last) { seq at stream line } } }';

export const JOB_LOG = 'subscription($id: ID!) { jobLog(id: $id) { seq at stream line } }';

/** The job mutations the action buttons send; each answers the job's new state. */
export const JOB_ACTIONS = {
  cancel: `mutation($id: ID!) { cancelJob(id: $id) { ${JOB_SUMMARY} } }`,
  retry: `mutation($id: ID!) { retryJob(id: $id) { ${JOB_SUMMARY} } }`,
  pause: `mutation($id: ID!) { pauseJob(id: $id) { ${JOB_SUMMARY} } }`,
  resume: `mutation($id: ID!) { resumeJob(id: $id) { ${JOB_SUMMARY} } }`,
} as const;

export const SET_PRIORITY = `mutation($id: ID!, $priority: Int!) { setJobPriority(id: $id, priority: $priority) { ${JOB_SUMMARY} } }`;

export const PAUSE_QUEUE = `mutation { pauseQueue { ${APPLIANCE_FIELDS} } }`;
export const RESUME_QUEUE = `mutation { resumeQueue { ${APPLIANCE_FIELDS} } }`;
