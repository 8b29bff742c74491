#!/usr/bin/env node
/**
 * `spool`: the operator's command line. `spool agent` runs the agent in the
 * foreground as one process; `spool doctor` checks the machine; `submit`,
 * `jobs`, `watch` and the other operator commands talk to a running agent
 * over its API (cli/client-commands.ts).
 */
import { parseArgs } from 'node:util';
import { CLIENT_HELP, runClientCommand } from './cli/client-commands.js';
import { runDoctor } from './cli/doctor.js';
import type { SpoolConfig } from './config/config.schema.js';
import { defaultConfig, loadConfigFile } from './config/load-config.js';
import { coerceError, SpoolError } from './errors.js';
import { createLogger } from './logger.js';
import { backupDatabase } from './ops/backup.js';
import { reloadConfigFile } from './ops/reload.js';
import { createSystemdNotifier } from './ops/sd-notify.js';

const HELP = `Usage: spool <command> [options]

Commands:
  agent [--config FILE]    run the agent in the foreground (no --config: the
                           embedded default, data and inboxes under ./var)
  doctor [--config FILE]   check ffmpeg, nvidia-smi, inbox and outbox folders,
                           inotify limits and free disk
  backup [--config FILE] FILE
                           write a consistent copy of the agent's database to
                           FILE (a new file) while the agent runs
  help                     show this text

${CLIENT_HELP}

Options:
  -c, --config FILE        YAML config (see config/spool.example.yaml)
  -h, --help               show this text
  -v, --version            print the version
`;

async function main(argv: string[]): Promise<number> {
  const client = runClientCommand(argv);
  if (client) return client;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const command = positionals[0] ?? (values.version ? 'version' : 'help');
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  switch (command) {
    case 'version':
      process.stdout.write(`${await version()}\n`);
      return 0;
    case 'agent':
      return runAgent(values.config);
    case 'backup': {
      const target = positionals[1];
      if (!target) {
        process.stderr.write(`spool backup: name the file to write, e.g. spool backup --config /etc/spool/spool.yaml /var/backups/spool-$(date +%F).db\n`);
        return 2;
      }
      const source = (await loadAgentModule()).databaseFile(readConfig(values.config).config);
      const result = await backupDatabase(source, target);
      process.stdout.write(`backup of ${source} written to ${result.file}: ${result.jobs} jobs, ${result.bytes} bytes, integrity ok\n`);
      return 0;
    }
    case 'doctor': {
      const { config } = readConfig(values.config);
      const report = await runDoctor(config, {});
      return report.ok ? 0 : 1;
    }
    default:
      process.stderr.write(`spool: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

/**
 * The agent (database, GraphQL server, runners) loads only for the commands
 * that run it: it takes about a second, which `spool jobs` and the other
 * API commands would otherwise pay on every call.
 */
function loadAgentModule(): Promise<typeof import('./agent.js')> {
  return import('./agent.js');
}

function readConfig(file: string | undefined): { config: SpoolConfig; embedded: boolean } {
  return file ? { config: loadConfigFile(file), embedded: false } : { config: defaultConfig(), embedded: true };
}

async function runAgent(configFile: string | undefined): Promise<number> {
  const logger = createLogger({ level: process.env.SPOOL_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  // First, so the watchdog pings during start-up too and no child inherits NOTIFY_SOCKET.
  const notifier = createSystemdNotifier({ logger });
  // SIGHUP would end the process (Node's default) until the reload handler is in place.
  let hangupDuringStart = false;
  const onEarlyHangup = () => (hangupDuringStart = true);
  process.on('SIGHUP', onEarlyHangup);
  const { config, embedded } = readConfig(configFile);
  logger.info(`spool ${await version()} starting (${embedded ? 'embedded default config' : configFile}), data in ${config.dataDir}`);
  const agent = await (await loadAgentModule()).createAgent(config, { logger, createFolders: embedded });
  await agent.start();
  for (const inbox of config.inboxes) logger.info(`inbox ${inbox.path} → ${inbox.outbox} (profile ${inbox.profile})`, { inbox: inbox.path });
  // Readiness: systemd (Type=notify) counts the agent started from here.
  // agent.start() has migrated the database, taken the first GPU and system
  // samples and opened the API; anything else readiness must wait for goes
  // before this line.
  await notifier.notifyReady(`running; ${config.inboxes.length} inboxes`);

  // SIGHUP: profiles and inboxes from the file again; running jobs go on.
  let reloads = Promise.resolve();
  const hangup = () => {
    reloads = reloads.then(async () => {
      if (!configFile) {
        logger.warn('SIGHUP: the agent runs on the embedded default config; there is no file to reload');
        return;
      }
      await notifier.notifyReloading('reloading profiles and inboxes');
      const taken = await reloadConfigFile(configFile, agent, logger);
      await notifier.notifyReady(taken ? `running; ${agent.config.inboxes.length} inboxes` : 'running; the last config reload was refused (see the log)');
    });
  };
  process.off('SIGHUP', onEarlyHangup);
  process.on('SIGHUP', hangup);
  if (hangupDuringStart) hangup();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn(`${signal} again: stopping now`);
        return;
      }
      stopping = true;
      logger.info(`${signal} received: finishing running attempts (up to ${config.jobs.stopDeadlineSeconds} s), then stopping`);
      void notifier.notifyStopping(`stopping: running attempts get up to ${config.jobs.stopDeadlineSeconds} s`);
      agent
        .stop(config.jobs.stopDeadlineSeconds * 1000)
        .then(() => {
          notifier.close();
          logger.info('stopped');
          resolve(0);
        })
        .catch((error) => {
          logger.error(`stop failed: ${coerceError(error).message}`);
          resolve(1);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A mistyped flag is a usage error (exit 2), not a crash with a stack trace.
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`spool: ${coerceError(error).message}\nRun \`spool help\` for the commands and their options.\n`);
      process.exit(2);
    }
    const message = error instanceof SpoolError ? error.message : (coerceError(error).stack ?? String(error));
    // Every line keeps the error priority in the journal (a bad config lists one problem per line).
    process.stderr.write(message.split('\n').map((line) => `<3>spool: ${line}\n`).join(''));
    process.exit(error instanceof SpoolError && error.code === 'CONFIG_INVALID' ? 78 : 1);
  },
);
