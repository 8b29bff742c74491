/** One live job list across the fleet: filters, sort, and a virtual list of rows. */
import { createMemo, createSignal, Show, type Component } from 'solid-js';
import { EMPTY_FILTER, visibleKeys, type JobFilter, type SortKey } from '../state/job-list';
import { useConsole } from '../state/console-context';
import { JobFilters } from './job-filters';
import { JOB_ROW_HEIGHT, JobRowView } from './job-row';
import { VirtualList } from './virtual-list';

export const JobsPanel: Component = () => {
  const { jobs, fleet } = useConsole();
  const [filter, setFilter] = createSignal<JobFilter>(EMPTY_FILTER);
  const [sort, setSort] = createSignal<SortKey>('newest');
  // The order changes only when rows or their listed fields do (see job-store.ts), not on every progress tick.
  const keys = createMemo(() => {
    jobs.version();
    if (sort() === 'progress') jobs.progressVersion();
    return visibleKeys(jobs.raw, filter(), sort());
  });
  const names = createMemo(() => new Map(fleet.members().map((m) => [m.id, m.name()])));
  const profiles = createMemo(() => [...new Set(fleet.members().flatMap((m) => m.profiles().map((p) => p.name)))].sort());
  const known = jobs.size;
  const total = () => fleet.members().reduce((sum, m) => sum + (m.totalJobs() ?? 0), 0);

  return (
    <section class="panel jobs-panel" aria-labelledby="jobs-title">
      <header class="panel-head">
        <h2 id="jobs-title">Jobs</h2>
        <span class="muted" data-testid="job-count">
          {keys().length.toLocaleString()} shown of {known().toLocaleString()}
          <Show when={total() > known()}> (the newest; {total().toLocaleString()} in all)</Show>
        </span>
      </header>
      <JobFilters
        filter={filter()}
        sort={sort()}
        appliances={fleet.members().map((m) => ({ id: m.id, name: m.name() }))}
        profiles={profiles()}
        onFilter={setFilter}
        onSort={setSort}
      />
      <Show when={keys().length > 0} fallback={<p class="empty">{known() === 0 ? 'No jobs yet. Drop a file onto an inbox to start one.' : 'No job matches these filters.'}</p>}>
        <VirtualList items={keys()} rowHeight={JOB_ROW_HEIGHT} label="Jobs">
          {(key) => (
            <Show when={jobs.jobs[key]}>
              {(row) => <JobRowView row={row()} applianceName={names().get(row().applianceId) ?? ''} />}
            </Show>
          )}
        </VirtualList>
      </Show>
    </section>
  );
};
