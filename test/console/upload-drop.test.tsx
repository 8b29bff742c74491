import { fireEvent, screen } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UploadDrop } from '../../console/src/components/upload-drop';
import { render } from '@solidjs/testing-library';

/** Stands in for the browser's XMLHttpRequest: the test drives progress and the answer. */
class FakeXhr {
  static last: FakeXhr | null = null;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown = null;
  open(_method: string, url: URL) {
    this.url = url.toString();
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.body = body;
    FakeXhr.last = this;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

const endpoint = { url: 'http://edge-02:7420', token: 'secret', label: 'edge-02' };
const inboxes = [
  { path: '/srv/inbox/web', profile: 'web', ok: true, error: null },
  { path: '/srv/inbox/tag', profile: 'tag', ok: true, error: null },
];

describe('UploadDrop', () => {
  beforeEach(() => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ maxBytes: 1000 }), { status: 200 })));
  });
  afterEach(() => vi.unstubAllGlobals());

  const drop = (files: File[]) => fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files } });
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 50 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('uploads a dropped file to the chosen inbox with a progress bar, then says where it went', async () => {
    render(() => <UploadDrop endpoint={endpoint} inboxes={inboxes} applianceName="edge-02" />);
    fireEvent.change(screen.getByLabelText('Inbox'), { target: { value: '/srv/inbox/tag' } });
    drop([new File(['x'.repeat(600)], 'scene 1.mov')]);
    await until(() => FakeXhr.last !== null);
    const xhr = FakeXhr.last!;
    expect(new URL(xhr.url).pathname).toBe('/upload');
    expect(new URL(xhr.url).searchParams.get('inbox')).toBe('/srv/inbox/tag');
    expect(new URL(xhr.url).searchParams.get('name')).toBe('scene 1.mov');
    expect(xhr.headers.authorization).toBe('Bearer secret');

    xhr.upload.onprogress!({ loaded: 300, total: 600, lengthComputable: true });
    const bar = screen.getByRole('progressbar', { name: 'Upload of scene 1.mov' }) as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([300, 600]);
    expect(screen.getByText('300 B of 600 B')).toBeTruthy();

    xhr.answer(201, { name: 'scene 1 (1).mov', path: '/srv/inbox/tag/scene 1 (1).mov', profile: 'tag', sizeBytes: 600 });
    await until(() => screen.queryByText(/Uploaded/) !== null);
    expect(screen.getByText('Uploaded, in the inbox as scene 1 (1).mov')).toBeTruthy();
  });

  it('refuses a file over the appliance\u2019s limit before sending it, and shows the agent\u2019s refusal in words', async () => {
    FakeXhr.last = null;
    render(() => <UploadDrop endpoint={endpoint} inboxes={inboxes} applianceName="edge-02" />);
    drop([new File(['x'.repeat(2000)], 'huge.mov')]);
    await until(() => screen.queryByText(/Failed/) !== null);
    expect(screen.getByText('Failed: larger than the 1000 B this appliance takes')).toBeTruthy();
    expect(FakeXhr.last).toBeNull();

    drop([new File(['x'], 'movie.part')]);
    await until(() => FakeXhr.last !== null);
    FakeXhr.last!.answer(400, { errors: [{ message: 'inboxes ignore names like "movie.part"', extensions: { code: 'BAD_USER_INPUT' } }] });
    await until(() => screen.queryByText(/ignore names/) !== null);
    expect(screen.getByText('Failed: inboxes ignore names like "movie.part"')).toBeTruthy();
  });
});
