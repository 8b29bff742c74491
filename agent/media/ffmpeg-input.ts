/**
 * Reads what ffmpeg says about its first input on stderr before it starts
 * encoding, the same facts ffprobe would print:
 *
 *     Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/srv/work/…/clip.mp4':
 *       Duration: 00:00:20.00, start: 0.000000, bitrate: 1174 kb/s
 *       Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), …
 *       Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), …
 *
 * A transcode takes its duration (for percent, ETA and the output check)
 * from here instead of running ffprobe first: on Debian's dynamically linked
 * build every ffprobe start costs about 0.1 s of CPU and wall time, which is
 * several percent of a short encode. `Duration` is the container's declared
 * length, the field ffprobe prints as `format.duration`, rounded by ffmpeg
 * to hundredths of a second.
 */

export interface FfmpegInput {
  /** The container's declared length; null when ffmpeg printed `N/A` or nothing. */
  durationSeconds: number | null;
  /** Whether the input has a video stream that is not cover art, and an audio stream. */
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
const DURATION = /^\s+Duration: (?:N\/A|(\d+):(\d\d):(\d\d(?:\.\d+)?))/;
// Metadata values that span lines are continued with "  : …", so an indented "Stream #0:" is ffmpeg's own line.
const STREAM = /^\s+Stream #0:\d+\S*: (Video|Audio): /;

export function createFfmpegInputReader(): FfmpegInputReader {
  let input: FfmpegInput | null = null;
  let inSection = false;
  let done = false;
  let sawDuration = false;
  return {
    push(line) {
      if (done) return;
      if (!inSection) {
        if (!INPUT_0.test(line)) return;
        inSection = true;
        input = { durationSeconds: null, hasVideo: false, hasAudio: false };
        return;
      }
      if (SECTION_END.test(line)) {
        done = true;
        return;
      }
      const duration = DURATION.exec(line);
      if (duration && !sawDuration) {
        sawDuration = true;
        const [, h, m, s] = duration;
        input!.durationSeconds = h === undefined ? null : Number(h) * 3600 + Number(m) * 60 + Number(s);
        return;
      }
      const stream = STREAM.exec(line);
      if (!stream) return;
      if (stream[1] === 'Audio') input!.hasAudio = true;
      else if (!line.includes('(attached pic)')) input!.hasVideo = true;
    },
    get input() {
      return input;
    },
  };
}
