/**
 * Real media for process-tier tests: short clips made by the same ffmpeg the
 * agent finds, from lavfi's `testsrc2` picture and `sine` tone, so no test
 * depends on a file checked into the repository.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateMediaTools, type MediaTools } from '../../agent/media/locate.js';

const execFileAsync = promisify(execFile);

let tools: Promise<MediaTools> | undefined;

/** ffmpeg, ffprobe and the encoders, located once per test file. */
export function getMediaTools(): Promise<MediaTools> {
  tools ??= locateMediaTools();
  return tools;
}

export interface ClipOptions {
  /** @default 2 */
  seconds?: number;
  /** @default 320 */
  width?: number;
  /** @default 240 */
  height?: number;
  /** Whether the clip has an AAC audio track (a 440 Hz tone). @default true */
  audio?: boolean;
  /** @default 25 */
  fps?: number;
}

/**
 * Writes an H.264 clip to `file`; the container follows the extension
 * (.mp4, .mkv, .mov). The name is passed as `file:<absolute path>`, so
 * names such as `-rf.mp4` or `concat:a.mp4|b.mp4` are plain files.
 */
export async function makeClip(file: string, options: ClipOptions = {}): Promise<void> {
  const { seconds = 2, width = 320, height = 240, audio = true, fps = 25 } = options;
  const { ffmpeg } = await getMediaTools();
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=${width}x${height}:rate=${fps}`];
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (audio) args.push('-c:a', 'aac', '-b:a', '64k', '-shortest');
  args.push(`file:${path.resolve(file)}`);
  await execFileAsync(ffmpeg.path, args, { timeout: 60_000 });
}
