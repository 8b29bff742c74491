/**
 * The YAML config of CONTRACT.md as a zod schema. Every default lives here,
 * with one doc line each; `config/spool.example.yaml` documents the same keys.
 * The file is parsed once at start: `loadConfig` turns schema errors into
 * messages that name the key, the value and what was expected.
 */
import os from 'node:os';
import { z } from 'zod';

export const CATEGORIES = ['cpu', 'gpu_encode', 'gpu_ai'] as const;
export type Category = (typeof CATEGORIES)[number];

export const KINDS = ['transcode', 'thumbnail', 'target-size', 'probe', 'command'] as const;
export type Kind = (typeof KINDS)[number];

const positiveInt = z.number().int().positive();
const seconds = z.number().nonnegative();

const categoryLimit = z.strictObject({
  /** How many jobs of this category may run at once. */
  concurrency: z.number().int().min(0),
});

const profileCommon = {
  /** Resource class the job draws on. @default depends on kind */
  category: z.enum(CATEGORIES).optional(),
  /** 1 (highest) to 10. @default 5 */
  priority: z.number().int().min(1).max(10).default(5),
  /** Attempts before a transient failure becomes final. @default 3 */
  maxAttempts: positiveInt.max(100).default(3),
  /** No progress for this long: the attempt is stopped and retried. @default 300 */
  stallTimeoutSeconds: positiveInt.default(300),
  /** Hard limit on one attempt's wall time; 0 means none. @default 0 */
  timeoutSeconds: z.number().int().min(0).default(0),
  /** Declared GPU memory need in MiB; learned figures may raise it. @default 0 */
  vramMb: z.number().int().min(0).default(0),
  /** Declared CPU cores the job keeps busy. @default 1 */
  cpuCores: z.number().positive().default(1),
  /** What to do with content (size + SHA-256) this profile already processed: run it again, skip it (reuse the earlier outputs) or fail it. @default run */
  onDuplicate: z.enum(['run', 'skip', 'fail']).default('run'),
  /** Follow-on profiles: each becomes a job on each output of this one. @default [] */
  then: z.array(z.string().min(1)).default([]),
};

const videoSettings = z.strictObject({
  /** h264 | hevc | av1 | vp9 | copy. @default h264 */
  codec: z.enum(['h264', 'hevc', 'av1', 'vp9', 'copy']).default('h264'),
  /** Constant quality (lower is better). @default 23 */
  crf: z.number().int().min(0).max(63).default(23),
  /** Encoder speed preset (x264/x265 names; mapped to p1..p7 for NVENC). @default medium */
  preset: z.string().min(1).default('medium'),
  /** Cap on the video bitrate in kbit/s; 0 means uncapped. @default 0 */
  maxBitrateKbps: z.number().int().min(0).default(0),
  /** Scale to this width keeping the aspect ratio; 0 keeps the size. @default 0 */
  width: z.number().int().min(0).default(0),
});

const audioSettings = z.strictObject({
  /** aac | opus | copy | none. @default aac */
  codec: z.enum(['aac', 'opus', 'copy', 'none']).default('aac'),
  /** Audio bitrate in kbit/s. @default 128 */
  bitrateKbps: positiveInt.default(128),
});

const transcodeProfile = z.strictObject({
  kind: z.literal('transcode'),
  ...profileCommon,
  /** auto: NVENC when a GPU can take the job, else the CPU encoder. @default auto */
  encoder: z.enum(['auto', 'cpu', 'nvenc']).default('auto'),
  video: videoSettings.default(videoSettings.parse({})),
  audio: audioSettings.default(audioSettings.parse({})),
  /** Output container. @default mp4 */
  container: z.enum(['mp4', 'mkv', 'webm', 'mov']).default('mp4'),
});

const thumbnailProfile = z.strictObject({
  kind: z.literal('thumbnail'),
  ...profileCommon,
  /** Where to take the frame: seconds (12.5) or a percentage of the duration ("10%"). @default "10%" */
  at: z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage such as "10%"')]).default('10%'),
  /** Width in pixels; the height keeps the aspect ratio. @default 640 */
  width: positiveInt.default(640),
  /** jpeg | webp. @default jpeg */
  format: z.enum(['jpeg', 'webp']).default('jpeg'),
});

const targetSizeProfile = z.strictObject({
  kind: z.literal('target-size'),
  ...profileCommon,
  /** The output must come out at or under this many MB (10^6 bytes). */
  targetMb: z.number().positive(),
  /** Video codec for the squeezed file. @default h264 */
  videoCodec: z.enum(['h264', 'hevc']).default('h264'),
  /** Encoder speed preset. @default medium */
  preset: z.string().min(1).default('medium'),
  /** Audio bitrate in kbit/s; 0 drops the audio. @default 96 */
  audioBitrateKbps: z.number().int().min(0).default(96),
  /** Scale to this width (0 keeps the size). @default 0 */
  width: z.number().int().min(0).default(0),
  /** Output container. @default mp4 */
  container: z.enum(['mp4', 'mkv']).default('mp4'),
});

const probeProfile = z.strictObject({
  kind: z.literal('probe'),
  ...profileCommon,
});

const commandProfile = z.strictObject({
  kind: z.literal('command'),
  ...profileCommon,
  /** argv, never a shell; placeholders {input} {outputDir} {outputBase}. */
  command: z.array(z.string()).min(1, 'a non-empty argv such as [/opt/tagger/run, "{input}", "{outputDir}"]'),
  /** Extra environment variables for the command. @default {} */
  env: z.record(z.string(), z.string()).default({}),
});

export const profileSchema = z.discriminatedUnion('kind', [
  transcodeProfile,
  thumbnailProfile,
  targetSizeProfile,
  probeProfile,
  commandProfile,
]);

export const inboxSchema = z.strictObject({
  /** The watched folder. */
  path: z.string().min(1),
  /** Name of the profile every file here runs. */
  profile: z.string().min(1),
  /** Where finished outputs go. */
  outbox: z.string().min(1),
  /** move (to <inbox>/done/) | delete | keep. @default move */
  onSuccess: z.enum(['move', 'delete', 'keep']).default('move'),
  /** Size and mtime unchanged this long = complete. @default 2 */
  stableSeconds: seconds.max(3600).default(2),
  /** Unreadable or short input that changed this recently waits instead of failing. @default 60 */
  incompleteGraceSeconds: seconds.default(60),
  /** Poll instead of inotify (network mounts). @default false */
  poll: z.boolean().default(false),
  /** Poll interval when poll is true, in ms. @default 2000 */
  pollIntervalMs: positiveInt.default(2000),
});

const tokenSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(['viewer', 'operator', 'admin']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters'),
});

export const WEBHOOK_EVENTS = ['completed', 'failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const webhookSchema = z
  .strictObject({
    /** Where the JSON is POSTed. Redirects are not followed. */
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
    /** Which finished jobs are sent: completed, failed. @default [completed, failed] */
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).default(['completed', 'failed']),
    /** HMAC-SHA256 key for the X-Spool-Signature header; this or secretFile. */
    secret: z.string().min(16).optional(),
    /** A file holding the secret (read at start; surrounding whitespace ignored), e.g. a systemd credential. */
    secretFile: z.string().min(1).optional(),
    /** One try gives up after this long without a complete answer. @default 10 */
    timeoutSeconds: z.number().positive().max(300).default(10),
    /** Tries per delivery, the first included; retried on network errors, timeouts, 408, 429 and 5xx. @default 5 */
    maxAttempts: z.number().int().min(1).max(20).default(5),
  })
  // Exactly one source: a forgotten secret must stop the agent, never send unsigned bodies.
  .refine((hook) => (hook.secret === undefined) !== (hook.secretFile === undefined), {
    path: ['secret'],
    error: 'exactly one of secret (at least 16 characters) or secretFile',
  });

export const configSchema = z.strictObject({
  appliance: z
    .strictObject({
      /** Shown in the console. @default the hostname */
      name: z.string().min(1).default(os.hostname()),
    })
    .default({ name: os.hostname() }),
  /** SQLite file and work area. @default ./var */
  dataDir: z.string().min(1).default('./var'),
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(7420),
      /** Browser origins allowed besides the agent's own. @default [] */
      allowedOrigins: z.array(z.string()).default([]),
      /** Only hashes of tokens; roles viewer | operator | admin. @default [] */
      tokens: z.array(tokenSchema).default([]),
      /** Folders besides the inboxes whose files `submitJob` may name (read in place, never moved). @default [] */
      inputRoots: z.array(z.string().min(1)).default([]),
      /** Largest GraphQL request body (HTTP) or WebSocket message, in KiB. @default 256 */
      maxRequestKb: z.number().int().min(4).max(65536).default(256),
      /** Largest page `jobs(first:)` and `log(last:)` may ask for. @default 500 */
      maxPageSize: z.number().int().min(10).max(10000).default(500),
      /** Largest file the console (POST /upload) may put into an inbox, in MiB. @default 10240 */
      maxUploadMb: z.number().int().min(1).max(1048576).default(10240),
    })
    .prefault({}),
  resources: z
    .strictObject({
      gpu: z
        .strictObject({
          /** How often the GPU is sampled, in ms. @default 1000 */
          sampleIntervalMs: positiveInt.default(1000),
          /** VRAM kept free on every GPU, in MiB. @default 512 */
          headroomMb: z.number().int().min(0).default(512),
          /** Longest one nvidia-smi call may take before the sample counts as stale, in ms. @default 5000 */
          sampleTimeoutMs: positiveInt.default(5000),
          /** Concurrent NVENC sessions per GPU: auto (8 on GeForce, none on cards without NVENC, 32 otherwise) or a number. @default auto */
          nvencSessions: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto'),
        })
        .prefault({}),
      cpu: z
        .strictObject({
          /** No new CPU work above this system busy share. @default 90 */
          ceilingPercent: z.number().min(1).max(100).default(90),
        })
        .prefault({}),
      /** Concurrency per category. @default cpu 2, gpu_encode 2, gpu_ai 1 */
      categories: z
        .strictObject({
          cpu: categoryLimit.default({ concurrency: 2 }),
          gpu_encode: categoryLimit.default({ concurrency: 2 }),
          gpu_ai: categoryLimit.default({ concurrency: 1 }),
        })
        .prefault({}),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      /** A job that cannot fit gets its resources held once it has waited this long. @default 900 */
      starvationSeconds: positiveInt.default(900),
      /** Free space kept on every outbox filesystem, in MB. @default 1024 */
      minFreeDiskMb: z.number().int().min(0).default(1024),
      /** A waiting job gains one priority step per this many seconds. @default 600 */
      agingSeconds: positiveInt.default(600),
      /** First retry delay; doubles per attempt, with jitter. @default 5 */
      backoffBaseSeconds: seconds.default(5),
      /** Longest retry delay. @default 600 */
      backoffMaxSeconds: seconds.default(600),
      /** SIGTERM to SIGKILL on cancel or timeout. @default 10 */
      killGraceSeconds: seconds.default(10),
      /** On SIGTERM, running attempts get this long to finish before they are stopped and queued again. @default 30 */
      stopDeadlineSeconds: seconds.default(30),
      /** Log lines kept per job (the newest). @default 2000 */
      maxLogLines: positiveInt.default(2000),
      /** Finished jobs older than this are pruned; 0 keeps them forever. @default 30 */
      retentionDays: z.number().min(0).default(30),
    })
    .prefault({}),
  intake: z
    .strictObject({
      /** Every inbox is re-read this often to take files whose events were missed. @default 30 */
      rescanSeconds: positiveInt.default(30),
    })
    .prefault({}),
  notifications: z
    .strictObject({
      /** HTTP endpoints told about finished jobs (signed JSON POSTs). @default [] */
      webhooks: z.array(webhookSchema).default([]),
    })
    .prefault({}),
  /** Named recipes; see the kinds above. */
  profiles: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a name of letters, digits, ".", "_" or "-"'), profileSchema).default({}),
  inboxes: z.array(inboxSchema).default([]),
});

export type SpoolConfig = z.infer<typeof configSchema>;
export type Profile = z.infer<typeof profileSchema>;
export type TranscodeProfile = z.infer<typeof transcodeProfile>;
export type ThumbnailProfile = z.infer<typeof thumbnailProfile>;
export type TargetSizeProfile = z.infer<typeof targetSizeProfile>;
export type CommandProfile = z.infer<typeof commandProfile>;
export type InboxConfig = z.infer<typeof inboxSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;

/** The category a profile runs in when it does not name one. */
export function profileCategory(profile: Profile): Category {
  if (profile.category) return profile.category;
  if (profile.kind === 'transcode' && profile.encoder !== 'cpu') return 'gpu_encode';
  return 'cpu';
}
