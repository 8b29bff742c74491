/**
 * POST /upload?inbox=<inbox path or profile>&name=<file name>: the body is
 * the file. This is how the console drops a file onto an inbox.
 *
 * The body streams to a dot-named temporary file inside the inbox (the
 * watcher ignores dotfiles and `*.part`), is flushed to disk, and is then
 * linked into place under its real name in one step, so the watcher only
 * ever sees a complete file and takes it at once. A name that is taken
 * gets " (1)", " (2)" … before its extension: nothing in an inbox is ever
 * overwritten. An aborted, stalled or oversized upload leaves nothing behind.
 *
 * GET /upload answers the limit, so a client can refuse a file that is too
 * large before sending it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { InboxConfig, SpoolConfig } from '../config/config.schema.js';
import { coerceError, errnoCode } from '../errors.js';
import { isIgnoredName } from '../intake/watcher.js';
import type { Logger } from '../logger.js';
import { sendError, sendJson, type ApiRoute } from './routes.js';

/** An upload that receives nothing for this long is given up (the client went away without closing). */
export const UPLOAD_IDLE_MS = 60_000;
/** Longest file name, in UTF-8 bytes, that common Linux filesystems accept. */
const MAX_NAME_BYTES = 255;

class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The name a file gets in the inbox: control characters and path
 * separators become "_", leading dots and spaces go (a dotfile would be
 * ignored by the watcher forever, and "../x" must not climb out). Throws
 * when nothing usable is left or the watcher would ignore the name.
 */
export function sanitizeUploadName(raw: string): string {
  const name = raw
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
    .replace(/^[\s.]+/, '')
    .trimEnd();
  if (name === '') throw new UploadRefused(400, 'BAD_USER_INPUT', `"${raw.slice(0, 80)}" is not a usable file name`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new UploadRefused(400, 'BAD_USER_INPUT', `the file name is longer than ${MAX_NAME_BYTES} bytes`);
  if (isIgnoredName(name)) {
    throw new UploadRefused(400, 'BAD_USER_INPUT', `inboxes ignore names like "${name}" (temporary or lock files); rename the file before uploading it`);
  }
  return name;
}

/** "clip.mp4", 2 → "clip (2).mp4" */
function numbered(name: string, n: number): string {
  if (n === 0) return name;
  const ext = path.extname(name);
  const base = ext && ext !== name ? name.slice(0, -ext.length) : name;
  return `${base} (${n})${ext === name ? '' : ext}`;
}

/** The inbox an `inbox` parameter names: its path as configured, or its profile when one inbox has it. */
export function findInbox(config: SpoolConfig, wanted: string | null): InboxConfig {
  const known = config.inboxes.map((i) => `${i.path} (${i.profile})`).join(', ') || 'none configured';
  if (!wanted) throw new UploadRefused(400, 'BAD_USER_INPUT', `say which inbox with ?inbox=<path or profile>; inboxes: ${known}`);
  const byPath = config.inboxes.find((i) => path.resolve(i.path) === path.resolve(wanted) && path.isAbsolute(wanted));
  if (byPath) return byPath;
  const byProfile = config.inboxes.filter((i) => i.profile === wanted);
  if (byProfile.length === 1) return byProfile[0]!;
  if (byProfile.length > 1) throw new UploadRefused(400, 'BAD_USER_INPUT', `several inboxes run profile ${wanted}; name one by its path: ${byProfile.map((i) => i.path).join(', ')}`);
  throw new UploadRefused(404, 'NOT_FOUND', `no inbox ${JSON.stringify(wanted)} on this appliance; inboxes: ${known}`);
}

/**
 * Links `tmp` into `dir` under `name` or the first free numbered variant.
 * link() fails when the target exists, so two uploads of the same name
 * (or a file the operator dropped meanwhile) never replace one another.
 * Filesystems without hard links get an existence check and rename().
 */
async function placeWithoutOverwriting(tmp: string, dir: string, name: string): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const candidate = numbered(name, n);
    const target = path.join(dir, candidate);
    try {
      await fs.promises.link(tmp, target);
      await fs.promises.unlink(tmp);
      return candidate;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      if (fs.existsSync(target)) continue;
      await fs.promises.rename(tmp, target);
      return candidate;
    }
  }
  throw new UploadRefused(409, 'BAD_USER_INPUT', `the inbox already holds 1000 files named like ${name}`);
}

/** Counts bytes, refuses past the limit, and gives up after UPLOAD_IDLE_MS without data. */
function byteCounter(limit: number, onStall: () => void) {
  let received = 0;
  let idle = setTimeout(onStall, UPLOAD_IDLE_MS);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      clearTimeout(idle);
      idle = setTimeout(onStall, UPLOAD_IDLE_MS);
      received += chunk.length;
      if (received > limit) callback(new UploadRefused(413, 'BAD_USER_INPUT', `the file is over this appliance's upload limit of ${limit} bytes (server.maxUploadMb)`));
      else callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(idle);
      callback();
    },
  });
  counter.once('close', () => clearTimeout(idle));
  return { counter, received: () => received };
}

export function createUploadRoute(deps: { config: () => SpoolConfig; logger: Logger }): ApiRoute {
  const limitBytes = () => deps.config().server.maxUploadMb * 1024 * 1024;

  const receive = async (req: http.IncomingMessage, url: URL, who: string) => {
    const inbox = findInbox(deps.config(), url.searchParams.get('inbox'));
    const name = sanitizeUploadName(url.searchParams.get('name') ?? '');
    const limit = limitBytes();
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      throw new UploadRefused(413, 'BAD_USER_INPUT', `the file (${declared} bytes) is over this appliance's upload limit of ${limit} bytes (server.maxUploadMb)`);
    }
    const stat = await fs.promises.stat(inbox.path).catch(() => null);
    if (!stat?.isDirectory()) throw new UploadRefused(503, 'INBOX_UNAVAILABLE', `the inbox ${inbox.path} does not exist or cannot be read on this appliance`);

    const tmp = path.join(inbox.path, `.spool-upload-${randomBytes(8).toString('hex')}.part`);
    const { counter, received } = byteCounter(limit, () => req.destroy(new Error(`no data for ${UPLOAD_IDLE_MS / 1000} s`)));
    try {
      // flush: the data is on disk before the name appears, so a crash never leaves a truncated file under the real name.
      await pipeline(req, counter, fs.createWriteStream(tmp, { flags: 'wx', flush: true }));
      if (declared !== undefined && received() !== Number(declared)) throw new Error(`received ${received()} of ${declared} bytes`);
      const placed = await placeWithoutOverwriting(tmp, inbox.path, name);
      deps.logger.info(`upload: ${who} put ${placed} (${received()} bytes) into ${inbox.path}`, { inbox: inbox.path });
      return { name: placed, path: path.join(inbox.path, placed), inbox: inbox.path, profile: inbox.profile, sizeBytes: received() };
    } catch (error) {
      await fs.promises.rm(tmp, { force: true });
      if (errnoCode(error) === 'ENOSPC') throw new UploadRefused(507, 'DISK_FULL', `the disk of ${inbox.path} is full`);
      throw error;
    }
  };

  return {
    methods: ['GET', 'POST'],
    role: 'operator',
    streamsBody: true,
    async handle(req, res, { principal, cors, url }) {
      if (req.method === 'GET') {
        sendJson(res, 200, { maxBytes: limitBytes() }, cors);
        return;
      }
      try {
        sendJson(res, 201, await receive(req, url, principal?.name ?? 'unknown'), cors);
      } catch (thrown) {
        if (thrown instanceof UploadRefused) {
          // The rest of a refused body is not read: close the connection rather than drain gigabytes.
          sendError(res, thrown.status, thrown.code, thrown.message, { ...cors, connection: 'close' });
          if (!req.complete) res.once('finish', () => req.destroy());
          return;
        }
        const error = coerceError(thrown);
        if (!req.complete) {
          deps.logger.info(`upload: given up: ${error.message}`);
          return;
        }
        throw error;
      }
    },
  };
}
