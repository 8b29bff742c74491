/** Filters and sort of the job list: appliance, status, profile, file name. */
import { For, type Component } from 'solid-js';
import { JOB_STATUSES, type JobStatus } from '../lib/types';
import { SORTS, type JobFilter, type SortKey } from '../state/job-list';
import { statusWord } from './status-badge';

export interface JobFiltersProps {
  filter: JobFilter;
  sort: SortKey;
  appliances: { id: string; name: string }[];
  profiles: string[];
  onFilter(next: JobFilter): void;
  onSort(next: SortKey): void;
}

export const JobFilters: Component<JobFiltersProps> = (props) => {
  const toggleStatus = (status: JobStatus, on: boolean) =>
    props.onFilter({ ...props.filter, statuses: on ? [...props.filter.statuses, status] : props.filter.statuses.filter((s) => s !== status) });
  return (
    <div class="filters" role="search" aria-label="Filter jobs">
      <label>
        File name
        <input type="search" placeholder="part of a name" value={props.filter.text} onInput={(e) => props.onFilter({ ...props.filter, text: e.currentTarget.value })} />
      </label>
      <label>
        Appliance
        <select value={props.filter.applianceId ?? ''} onChange={(e) => props.onFilter({ ...props.filter, applianceId: e.currentTarget.value || null })}>
          <option value="">All appliances</option>
          <For each={props.appliances}>{(a) => <option value={a.id}>{a.name}</option>}</For>
        </select>
      </label>
      <label>
        Profile
        <select value={props.filter.profile ?? ''} onChange={(e) => props.onFilter({ ...props.filter, profile: e.currentTarget.value || null })}>
          <option value="">All profiles</option>
          <For each={props.profiles}>{(p) => <option value={p}>{p}</option>}</For>
        </select>
      </label>
      <label>
        Sort
        <select value={props.sort} onChange={(e) => props.onSort(e.currentTarget.value as SortKey)}>
          <For each={Object.entries(SORTS)}>{([key, word]) => <option value={key}>{word}</option>}</For>
        </select>
      </label>
      <fieldset class="status-filter">
        <legend>Status</legend>
        <For each={JOB_STATUSES}>
          {(status) => (
            <label class={`chip status-${status.toLowerCase()}`}>
              <input type="checkbox" checked={props.filter.statuses.includes(status)} onChange={(e) => toggleStatus(status, e.currentTarget.checked)} />
              {statusWord(status)}
            </label>
          )}
        </For>
      </fieldset>
    </div>
  );
};
