/**
 * Uploads a file to an inbox of an appliance (POST /upload). XMLHttpRequest,
 * not fetch: only it reports upload progress.
 */
import { ApiError, errorFromBody } from './errors';
import { withSlash, type Endpoint } from './graphql-http';

export interface UploadResult {
  name: string;
  path: string;
  profile: string;
  sizeBytes: number;
}

export interface UploadHandle {
  done: Promise<UploadResult>;
  cancel(): void;
}

export function uploadFile(endpoint: Endpoint, inbox: string, file: File, onProgress: (sent: number, total: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const url = new URL('upload', withSlash(endpoint.url));
  url.searchParams.set('inbox', inbox);
  url.searchParams.set('name', file.name);
  const done = new Promise<UploadResult>((resolve, reject) => {
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: described by status below
      }
      if (xhr.status === 201) resolve(body as UploadResult);
      else reject(errorFromBody(endpoint.label, xhr.status, body));
    };
    // The agent closes the connection after refusing a body it will not read (too large): the browser reports that as a network error.
    xhr.onerror = () => reject(new ApiError(`The upload to ${endpoint.label} broke off: the appliance went offline or refused the file (too large?).`, 'NETWORK'));
    xhr.onabort = () => reject(new ApiError('Upload cancelled.', 'NETWORK'));
  });
  xhr.open('POST', url);
  xhr.setRequestHeader('authorization', `Bearer ${endpoint.token}`);
  xhr.setRequestHeader('content-type', 'application/octet-stream');
  xhr.send(file);
  return { done, cancel: () => xhr.abort() };
}

/** The largest file the appliance takes, so a file that is too large is refused before it is sent. */
export async function uploadLimit(endpoint: Endpoint): Promise<number | null> {
  try {
    const response = await fetch(new URL('upload', withSlash(endpoint.url)), { headers: { authorization: `Bearer ${endpoint.token}` }, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return null;
    return ((await response.json()) as { maxBytes: number }).maxBytes;
  } catch {
    return null;
  }
}
