/**
 * Finds ffmpeg and ffprobe once at start: the system ones on PATH (they may
 * carry NVENC), else the binaries that the @ffmpeg-installer and
 * @ffprobe-installer npm packages ship, so a fresh machine needs nothing but
 * Node and npm.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { SpoolError } from '../errors.js';

const execFileAsync = promisify(execFile);

export interface ToolInfo {
  path: string;
  source: 'system' | 'npm';
  /** First line of `-version`, e.g. "ffmpeg version 5.1.9-0+deb12u1". */
  version: string;
}

export interface MediaTools {
  ffmpeg: ToolInfo;
  ffprobe: ToolInfo;
  /** Encoder names ffmpeg lists (`libx264`, `h264_nvenc`, …). */
  encoders: ReadonlySet<string>;
}

/** The first executable `name` on PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function fromNpm(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const found = (require(pkg) as { path?: string }).path;
    if (found && fs.existsSync(found)) return found;
  } catch {
    // Optional dependency not installed for this platform.
  }
  return undefined;
}

async function describe(file: string, source: ToolInfo['source']): Promise<ToolInfo> {
  const { stdout } = await execFileAsync(file, ['-hide_banner', '-version'], { timeout: 10_000 });
  return { path: file, source, version: stdout.split('\n')[0]?.replace(/ Copyright.*/, '').trim() || 'unknown' };
}

async function locate(name: 'ffmpeg' | 'ffprobe', env: NodeJS.ProcessEnv): Promise<ToolInfo> {
  const system = findOnPath(name, env);
  if (system) return describe(system, 'system');
  const npm = fromNpm(name === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe');
  if (npm) return describe(npm, 'npm');
  throw new SpoolError(
    'FFMPEG_MISSING',
    `${name} was not found on PATH nor in the optional npm package; install it (apt-get install ffmpeg) or run npm install again`,
  );
}

/** Finds both tools and the encoders ffmpeg offers. */
export async function locateMediaTools(env: NodeJS.ProcessEnv = process.env): Promise<MediaTools> {
  const [ffmpeg, ffprobe] = await Promise.all([locate('ffmpeg', env), locate('ffprobe', env)]);
  const { stdout } = await execFileAsync(ffmpeg.path, ['-hide_banner', '-encoders'], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 });
  const encoders = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*[VAS][A-Z.]{5}\s+(\S+)/.exec(line);
    if (match?.[1] && match[1] !== '=') encoders.add(match[1]);
  }
  return { ffmpeg, ffprobe, encoders };
}
