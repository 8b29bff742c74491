/**
 * Reads what ffmpeg says about its first input on stderr before it starts
 * encoding, the same facts ffprobe would print:
 *
 *     Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/srv/work/…/clip.mp4':
 *       Metadata:
 *         major_brand     : isom
 *       Duration: 00:00:20.00, start: 0.000000, bitrate: 1174 kb/s
 *       Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), …
 *       Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), …
 *
 * A transcode takes its duration (for percent, ETA and the output check)
 * from here instead of running ffprobe first: on Debian's dynamically linked
 * build every ffprobe start costs about 0.1 s of CPU and wall time, which is
 * several percent of a short encode. `Duration` is the container's declared
 * length, the field ffprobe prints as `format.duration`, rounded by ffmpeg
 * to hundredths of a second. When the container declares none ffmpeg prints
 * `N/A`; ffprobe would then fall back to the longest stream, which this
 * report does not give, so the duration is unknown (no percent, and the
 * output's length is not checked against it).
 *
 * The file's own tags are printed in this section too, so they must not be
 * taken for ffmpeg's lines: everything indented under a `Metadata:` or
 * `Side data:` heading is skipped (a tag's later lines are indented deeper
 * still), and so is a line the stderr splitter had to cut (MAX_LINE).
 * Stream lines are indented by two spaces in ffmpeg 5 and later, by four in
 * 4.x, so the heading's depth, not a fixed one, ends a block.
 */
import { MAX_LINE } from '../runner/process.js';

export interface FfmpegInput {
  /** The container's declared length; null when ffmpeg printed `N/A` or nothing. */
  durationSeconds: number | null;
  /** Streams of any type (video, audio, subtitles, data). */
  streams: number;
  /** Whether one of them is a video stream that is not cover art, and whether one is audio. */
  hasVideo: boolean;
  hasAudio: boolean;
}

export interface FfmpegInputReader {
  /** Feeds one stderr line; lines after the first input's section are ignored. */
  push(line: string): void;
  /** What was read so far; null until ffmpeg has printed the `Input #0` header. */
  readonly input: FfmpegInput | null;
}

const INPUT_0 = /^Input #0, /;
// The first input's section ends where the next input, the stream mapping or the outputs start.
const SECTION_END = /^(Input #[1-9]|Stream mapping:|Output #)/;
const BLOCK = /^( *)(Metadata|Side data):$/;
const DURATION = /^ {2}Duration: (?:N\/A|(\d+):(\d\d):(\d\d(?:\.\d+)?)),/;
const STREAM = /^ +Stream #0:\d+\S*: (\w+): /;

export function createFfmpegInputReader(): FfmpegInputReader {
  let input: FfmpegInput | null = null;
  let done = false;
  /** Depth of the Metadata/Side data heading being skipped, or -1. */
  let skipDeeperThan = -1;
  /** The line after a cut one is the rest of it. */
  let restOfCut = false;
  let sawDuration = false;

  const take = (line: string, section: FfmpegInput) => {
    const depth = line.length - line.trimStart().length;
    if (skipDeeperThan >= 0) {
      if (depth > skipDeeperThan) return;
      skipDeeperThan = -1;
    }
    const block = BLOCK.exec(line);
    if (block) {
      skipDeeperThan = block[1]!.length;
      return;
    }
    const duration = DURATION.exec(line);
    if (duration && !sawDuration) {
      sawDuration = true;
      const [, h, m, s] = duration;
      section.durationSeconds = h === undefined ? null : Number(h) * 3600 + Number(m) * 60 + Number(s);
      return;
    }
    const stream = STREAM.exec(line);
    if (!stream) return;
    section.streams += 1;
    if (stream[1] === 'Audio') section.hasAudio = true;
    if (stream[1] === 'Video' && !line.includes('(attached pic)')) section.hasVideo = true;
  };

  return {
    push(line) {
      if (done) return;
      if (line.length >= MAX_LINE || restOfCut) {
        restOfCut = line.length >= MAX_LINE;
        return;
      }
      if (input === null) {
        if (INPUT_0.test(line)) input = { durationSeconds: null, streams: 0, hasVideo: false, hasAudio: false };
        return;
      }
      if (SECTION_END.test(line)) {
        done = true;
        return;
      }
      take(line, input);
    },
    get input() {
      return input;
    },
  };
}
