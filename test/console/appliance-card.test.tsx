import { fireEvent, screen } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { ApplianceCard } from '../../console/src/components/appliance-card';
import { NoticesView } from '../../console/src/components/notices-view';
import { ApiError } from '../../console/src/lib/errors';
import { createFakeLink, settle } from './fake-link';
import { applianceState, jobSummary } from './fixtures';
import { consoleServices, renderWith } from './harness';

const stats = { pending: 3, running: 1, paused: 0, completed: 12, failed: 2, cancelled: 0 };

function applianceLink(options: { refuseMutations?: boolean } = {}) {
  return createFakeLink((query) => {
    if (query.includes('pauseQueue')) {
      if (options.refuseMutations) throw new ApiError('token "wall screen" has the viewer role; changing jobs or the queue needs operator or admin', 'FORBIDDEN');
      return { pauseQueue: applianceState({ queuePaused: true }) };
    }
    if (query.includes('profiles')) return { queueStats: stats, profiles: [{ name: 'web', kind: 'transcode' }] };
    if (query.includes('jobs(first')) return { jobs: { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: null }, edges: [{ node: jobSummary() }] } };
    throw new Error(`unexpected request ${query}`);
  });
}

async function showCard(options: { refuseMutations?: boolean } = {}) {
  const fake = applianceLink(options);
  const services = consoleServices([{ id: 'edge-01', link: fake }]);
  renderWith(services, () => (
    <>
      <ApplianceCard member={services.fleet.members()[0]!} />
      <NoticesView notices={services.notices} />
    </>
  ));
  fake.connect();
  await settle();
  return { fake, services };
}

describe('ApplianceCard', () => {
  it('shows the appliance online with its GPUs, CPU, memory and queue counts, from the live state', async () => {
    const { fake, services } = await showCard();
    expect(screen.getByText('Waiting for the first figures…')).toBeTruthy();
    for (const used of [4000, 5000, 6000]) fake.push('applianceUpdated', { applianceUpdated: applianceState({ gpus: [{ ...applianceState().gpus[0]!, memoryUsedMb: used, utilizationPercent: used / 100 }] }) });

    expect(screen.getByText('Online')).toBeTruthy();
    const vram = screen.getByRole('meter', { name: 'GPU 0 VRAM' });
    expect(vram.getAttribute('aria-valuenow')).toBe('6000');
    expect(vram.getAttribute('aria-valuetext')).toBe('5.9 GiB of 19.5 GiB');
    // Three samples: the utilisation chart draws a line through three points.
    const chart = screen.getByRole('img', { name: /GPU 0 utilisation, last minutes; now 60%/ });
    expect(chart.querySelector('path')!.getAttribute('d')!.match(/[ML]/g)).toHaveLength(3);
    expect(screen.getByRole('meter', { name: 'CPU' }).getAttribute('aria-valuetext')).toBe('25% of 16 cores');
    expect(screen.getByRole('meter', { name: 'Memory' }).getAttribute('aria-valuetext')).toBe('15.6 GiB of 62.5 GiB');
    const counts = screen.getByLabelText('Jobs by status');
    expect(counts.querySelector('[data-count="completed"] dd')!.textContent).toBe('12');
    expect(counts.querySelector('[data-count="failed"] dd')!.textContent).toBe('2');
    expect(screen.getByTestId('queue-state').textContent).toBe('Queue running');
    // The first load put the appliance's jobs into the shared list.
    expect(Object.keys(services.jobs.jobs)).toEqual(['edge-01/01JOB']);
  });

  it('says when there are no GPU figures, and why', async () => {
    const { fake } = await showCard();
    fake.push('applianceUpdated', { applianceUpdated: applianceState({ gpus: [], gpuError: 'nvidia-smi not found' }) });
    expect(screen.getByText('No GPU figures: nvidia-smi not found')).toBeTruthy();
  });

  it('goes offline with the reason, keeps its last figures, and disables what needs the appliance', async () => {
    const { fake } = await showCard();
    fake.push('applianceUpdated', { applianceUpdated: applianceState() });
    fake.drop();
    expect(screen.getByText('Offline')).toBeTruthy();
    expect(screen.getByText('edge-01 is not reachable; retrying.')).toBeTruthy();
    expect(screen.getByRole('meter', { name: 'GPU 0 VRAM' })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Pause the queue of edge-01' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Choose files…' }) as HTMLButtonElement).disabled).toBe(true);
    fake.connect();
    expect(screen.getByText('Online')).toBeTruthy();
  });

  it('pauses the queue and says so', async () => {
    const { fake } = await showCard();
    fake.push('applianceUpdated', { applianceUpdated: applianceState() });
    fireEvent.click(screen.getByRole('button', { name: 'Pause the queue of edge-01' }));
    await settle();
    expect(fake.requests.at(-1)!.query).toMatch(/pauseQueue/);
    expect(screen.getByTestId('queue-state').textContent).toBe('Queue paused');
    expect(screen.getByRole('status').textContent).toMatch(/Queue of edge-01 paused/);
    expect(screen.getByRole('button', { name: 'Resume the queue of edge-01' })).toBeTruthy();
  });

  it('explains a refusal in words', async () => {
    const { fake } = await showCard({ refuseMutations: true });
    fake.push('applianceUpdated', { applianceUpdated: applianceState() });
    fireEvent.click(screen.getByRole('button', { name: 'Pause the queue of edge-01' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toMatch(/Could not pause the queue of edge-01: token "wall screen" has the viewer role/);
    expect(screen.getByTestId('queue-state').textContent).toBe('Queue running');
  });
});
