import { fireEvent, screen } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { JobLog } from '../../console/src/components/job-log';
import type { LogLine } from '../../console/src/lib/types';
import { createFakeLink, settle } from './fake-link';
import { consoleServices, renderWith } from './harness';

const line = (seq: number | null, text: string, stream = 'stdout'): LogLine => ({ seq, at: `2026-11-25T10:00:${String(seq ?? 59).padStart(2, '0')}.000Z`, stream, line: text });

describe('JobLog', () => {
  it('shows the tail, then follows lines as they stream in, without doubling a line that came both ways', async () => {
    let answerTail: (lines: LogLine[]) => void = () => undefined;
    const tails: number[] = [];
    const fake = createFakeLink((query, variables) => {
      if (!query.includes('log(last')) return new Promise(() => undefined);
      tails.push(variables!.last as number);
      return new Promise((resolve) => (answerTail = (lines) => resolve({ job: { log: lines } })));
    });
    const services = consoleServices([{ id: 'edge-01', link: fake }]);
    renderWith(services, () => <JobLog member={services.fleet.members()[0]!} jobId="J1" fileName="clip.mp4" />);
    const shown = () => screen.getAllByRole('listitem').map((item) => item.textContent!.replace(/^\d\d:\d\d:\d\d /, ''));

    // A line streams in while the tail is being read; it is also in the tail.
    fake.push('jobLog', { jobLog: line(null, 'frame=20') });
    answerTail([line(1, 'ffmpeg version 6'), line(2, 'frame=10'), { ...line(null, 'frame=20'), seq: 3 }]);
    await settle();
    expect(shown()).toEqual(['ffmpeg version 6', 'frame=10', 'frame=20']);
    expect(tails).toEqual([300]);

    fake.push('jobLog', { jobLog: line(null, 'frame=30') });
    fake.push('jobLog', { jobLog: line(null, 'Conversion failed!', 'stderr') });
    expect(shown()).toEqual(['ffmpeg version 6', 'frame=10', 'frame=20', 'frame=30', 'Conversion failed!']);
    expect(screen.getByText('Conversion failed!').closest('.log-line')!.classList.contains('log-stderr')).toBe(true);
    expect(screen.getByText('5 lines')).toBeTruthy();
    expect((screen.getByRole('checkbox', { name: /Follow the end/ }) as HTMLInputElement).checked).toBe(true);
  });

  it('reads further back on request, and stops following the tail', async () => {
    const tails: number[] = [];
    const fake = createFakeLink((query, variables) => {
      tails.push(variables!.last as number);
      const count = Math.min(variables!.last as number, 1000);
      return { job: { log: Array.from({ length: count }, (_, i) => line(i, `line ${i}`)) } };
    });
    const services = consoleServices([{ id: 'edge-01', link: fake }]);
    renderWith(services, () => <JobLog member={services.fleet.members()[0]!} jobId="J1" fileName="clip.mp4" />);
    await settle();
    fireEvent.click(screen.getByRole('button', { name: 'Load earlier lines' }));
    await settle();
    expect(tails).toEqual([300, 1300]);
    expect(screen.getByText('1,000 lines')).toBeTruthy();
    expect((screen.getByRole('checkbox', { name: /Follow the end/ }) as HTMLInputElement).checked).toBe(false);
    // The appliance had fewer lines than asked for: there is nothing earlier.
    expect((screen.getByRole('button', { name: 'Load earlier lines' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
