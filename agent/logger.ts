/**
 * One line per event on stdout/stderr. Each line starts with a journald
 * priority prefix (`<3>` error … `<7>` debug), so `journalctl -p warning`
 * works when systemd runs the agent, and carries the job and inbox it is about.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

const PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export function createLogger(options: { level?: LogLevel; write?: (level: LogLevel, line: string) => void } = {}): Logger {
  const threshold = PRIORITY[options.level ?? 'info'];
  const write =
    options.write ??
    ((level: LogLevel, line: string) => (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line + '\n'));
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (PRIORITY[level] > threshold) return;
    // journald reads each line as its own entry: a multi-line message (a
    // stack, a list of config problems) keeps its priority on every line,
    // and the job and inbox fields stay on the first.
    const [first = '', ...rest] = message.split(/\r?\n/);
    const prefix = `<${PRIORITY[level]}>`;
    write(level, [`${prefix}${first}${formatFields(fields)}`, ...rest.map((line) => `${prefix}  ${line}`)].join('\n'));
  };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    const text = String(value);
    out += ` ${key}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`;
  }
  return out;
}
