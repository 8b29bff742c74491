/**
 * Downloads a job output. A link cannot carry the bearer token, so the
 * console first asks the appliance for a short-lived signed link (POST
 * /download), then opens it; the browser saves the file itself, however large.
 */
import { errorFromBody, networkError } from './errors';
import { withSlash, type Endpoint } from './graphql-http';

export async function downloadLink(endpoint: Endpoint, jobId: string, path: string): Promise<string> {
  const url = new URL('download', withSlash(endpoint.url));
  url.searchParams.set('job', jobId);
  url.searchParams.set('path', path);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${endpoint.token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (thrown) {
    throw networkError(endpoint.label, thrown, 10_000);
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw errorFromBody(endpoint.label, response.status, body);
  // The link is absolute on the agent ("/download?ticket=…"): resolve it against the appliance's origin.
  return new URL((body as { url: string }).url, endpoint.url).toString();
}

export async function startDownload(endpoint: Endpoint, jobId: string, path: string): Promise<void> {
  const link = document.createElement('a');
  link.href = await downloadLink(endpoint, jobId, path);
  link.rel = 'noopener';
  link.download = '';
  document.body.append(link);
  link.click();
  link.remove();
}
