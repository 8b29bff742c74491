import { fireEvent, screen } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NoticesView } from '../../console/src/components/notices-view';
import { AppliancesPage } from '../../console/src/pages/appliances-page';
import { createFakeLink, settle } from './fake-link';
import { consoleServices, renderWith } from './harness';

/** The appliance answers `{ appliance { name } }` to a good token and 401 to any other. */
function fakeAppliances(tokens: Record<string, string>) {
  return vi.fn(async (url: URL, init: RequestInit) => {
    const token = String((init.headers as Record<string, string>).authorization).replace('Bearer ', '');
    const name = tokens[`${url.origin}|${token}`];
    if (!name) return new Response(JSON.stringify({ errors: [{ message: 'bad token', extensions: { code: 'UNAUTHENTICATED' } }] }), { status: 401 });
    return new Response(JSON.stringify({ data: { appliance: { name } } }), { status: 200 });
  });
}

describe('AppliancesPage', () => {
  afterEach(() => vi.unstubAllGlobals());

  function show() {
    const services = consoleServices([{ id: 'edge-01', link: createFakeLink(() => ({})) }]);
    renderWith(services, () => (
      <>
        <AppliancesPage />
        <NoticesView notices={services.notices} />
      </>
    ));
    return services;
  }

  it('adds an appliance after checking its URL and token, and says why it will not', async () => {
    vi.stubGlobal('fetch', fakeAppliances({ 'http://edge-02:7420|good': 'edge-02' }));
    const services = show();
    fireEvent.click(screen.getByRole('button', { name: 'Add an appliance' }));
    const form = screen.getByRole('region', { name: 'Add an appliance' });
    fireEvent.input(form.querySelector('input[type=url]')!, { target: { value: 'edge-02:7420' } });
    fireEvent.input(form.querySelector('input[type=password]')!, { target: { value: 'wrong' } });
    fireEvent.submit(form.querySelector('form')!);
    await settle();
    await settle();
    expect(form.querySelector('[role=alert]')!.textContent).toBe('http://edge-02:7420 does not accept this token. Edit the appliance and paste a valid one.');
    expect(services.saved.list()).toHaveLength(1);

    fireEvent.input(form.querySelector('input[type=password]')!, { target: { value: 'good' } });
    fireEvent.submit(form.querySelector('form')!);
    await settle();
    await settle();
    expect(services.saved.list().map((a) => [a.url, a.token, a.name])).toEqual([
      ['http://edge-01:7420', 'token', 'edge-01'],
      ['http://edge-02:7420', 'good', 'edge-02'],
    ]);
    expect(screen.getByRole('status').textContent).toMatch('Added edge-02');
  });

  it('edits the token of an appliance (its connection is replaced) and removes one', async () => {
    vi.stubGlobal('fetch', fakeAppliances({ 'http://edge-01:7420|new-token': 'edge-01' }));
    vi.stubGlobal('confirm', () => true);
    const services = show();
    const before = services.fleet.members()[0]!;
    fireEvent.click(screen.getByRole('button', { name: 'Edit edge-01' }));
    const token = screen.getByLabelText('Token') as HTMLInputElement;
    expect(token.value).toBe('token');
    fireEvent.input(token, { target: { value: 'new-token' } });
    fireEvent.submit(token.closest('form')!);
    await settle();
    await settle();
    expect(services.saved.list()[0]!.token).toBe('new-token');
    expect(services.fleet.members()[0]).not.toBe(before);

    fireEvent.click(screen.getByRole('button', { name: 'Remove edge-01' }));
    expect(services.saved.list()).toEqual([]);
    expect(services.fleet.members()).toEqual([]);
  });
});
