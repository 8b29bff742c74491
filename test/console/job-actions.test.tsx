import { fireEvent, screen } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { JobActions } from '../../console/src/components/job-actions';
import { NoticesView } from '../../console/src/components/notices-view';
import { ApiError } from '../../console/src/lib/errors';
import type { JobStatus, JobSummary } from '../../console/src/lib/types';
import { createFakeLink, settle } from './fake-link';
import { jobSummary } from './fixtures';
import { consoleServices, renderWith } from './harness';

function setup(status: JobStatus, answer: (query: string, variables?: Record<string, unknown>) => unknown = () => ({})) {
  const fake = createFakeLink(answer);
  const services = consoleServices([{ id: 'edge-01', link: fake }]);
  const member = services.fleet.members()[0]!;
  fake.connect();
  const job = jobSummary({ id: 'J1', status, fileName: 'interview.mov' });
  renderWith(services, () => (
    <>
      <JobActions member={member} job={job} online={true} />
      <NoticesView notices={services.notices} />
    </>
  ));
  const button = (name: string) => screen.getByRole('button', { name }) as HTMLButtonElement;
  return { fake, services, button };
}

const enabledButtons = (button: (name: string) => HTMLButtonElement) => ['Pause', 'Resume', 'Cancel', 'Retry'].filter((n) => !button(n).disabled);

describe('JobActions', () => {
  it.each([
    ['PENDING', ['Pause', 'Cancel']],
    ['RUNNING', ['Pause', 'Cancel']],
    ['PAUSED', ['Resume', 'Cancel']],
    ['FAILED', ['Retry']],
    ['CANCELLED', ['Retry']],
    ['COMPLETED', []],
  ] as [JobStatus, string[]][])('a %s job offers %j', (status, expected) => {
    const { button } = setup(status);
    expect(enabledButtons(button)).toEqual(expected);
  });

  it('cancels: the answer goes into the job list at once and a notice says what happened', async () => {
    const cancelled: JobSummary = jobSummary({ id: 'J1', status: 'CANCELLED', fileName: 'interview.mov', updatedAt: '2026-11-25T10:00:09.000Z' });
    const { fake, services, button } = setup('RUNNING', (query) => ({ cancelJob: cancelled, query }));
    fireEvent.click(button('Cancel'));
    expect(button('Cancelling…').disabled).toBe(true);
    await settle();
    const sent = fake.requests.filter((r) => r.query.startsWith('mutation'));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toMatch(/cancelJob\(id: \$id\)/);
    expect(sent[0]!.variables).toEqual({ id: 'J1' });
    services.jobs.flush();
    expect(services.jobs.jobs['edge-01/J1']!.status).toBe('CANCELLED');
    expect(screen.getByRole('status').textContent).toMatch('Cancelled: interview.mov on edge-01');
  });

  it('shows the appliance\u2019s refusal in words', async () => {
    const { button } = setup('FAILED', () => {
      throw new ApiError('job J1 is RUNNING; only FAILED or CANCELLED jobs can be retried', 'INVALID_STATE');
    });
    fireEvent.click(button('Retry'));
    await settle();
    expect(screen.getByRole('alert').textContent).toMatch('Could not retry interview.mov on edge-01: job J1 is RUNNING; only FAILED or CANCELLED jobs can be retried');
    expect(button('Retry').disabled).toBe(false);
  });

  it('raises and lowers the priority within 1..10', async () => {
    const { fake, button } = setup('PENDING', (_query, variables) => ({ setJobPriority: jobSummary({ id: 'J1', priority: variables!.priority as number }) }));
    const sent = () => fake.requests.filter((r) => r.query.includes('setJobPriority')).map((r) => r.variables);
    fireEvent.click(button('Raise priority'));
    await settle();
    expect(screen.getByRole('status').textContent).toMatch('Priority of interview.mov is now 4');
    fireEvent.click(button('Lower priority'));
    await settle();
    expect(sent()).toEqual([
      { id: 'J1', priority: 4 },
      { id: 'J1', priority: 6 },
    ]);
  });
});
