#!/usr/bin/env node
/**
 * `spool`: the operator's command line. `spool agent` runs the agent in the
 * foreground as one process; `spool doctor` checks the machine.
 */
import { parseArgs } from 'node:util';
import { createAgent } from './agent.js';
import { runDoctor } from './cli/doctor.js';
import type { SpoolConfig } from './config/config.schema.js';
import { defaultConfig, loadConfigFile } from './config/load-config.js';
import { coerceError, SpoolError } from './errors.js';
import { createLogger } from './logger.js';

const HELP = `Usage: spool <command> [options]

Commands:
  agent [--config FILE]    run the agent in the foreground (no --config: the
                           embedded default, data and inboxes under ./var)
  doctor [--config FILE]   check ffmpeg, nvidia-smi, inbox and outbox folders,
                           inotify limits and free disk
  help                     show this text

Options:
  -c, --config FILE        YAML config (see config/spool.example.yaml)
  -h, --help               show this text
  -v, --version            print the version
`;

async function main(argv: string[]): Promise<number> {
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

function readConfig(file: string | undefined): { config: SpoolConfig; embedded: boolean } {
  return file ? { config: loadConfigFile(file), embedded: false } : { config: defaultConfig(), embedded: true };
}

async function runAgent(configFile: string | undefined): Promise<number> {
  const logger = createLogger({ level: process.env.SPOOL_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const { config, embedded } = readConfig(configFile);
  logger.info(`spool ${await version()} starting (${embedded ? 'embedded default config' : configFile}), data in ${config.dataDir}`);
  const agent = await createAgent(config, { logger, createFolders: embedded });
  await agent.start();
  for (const inbox of config.inboxes) logger.info(`inbox ${inbox.path} → ${inbox.outbox} (profile ${inbox.profile})`, { inbox: inbox.path });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn(`${signal} again: stopping now`);
        return;
      }
      stopping = true;
      logger.info(`${signal} received: finishing running attempts (up to ${config.jobs.stopDeadlineSeconds} s), then stopping`);
      agent
        .stop(config.jobs.stopDeadlineSeconds * 1000)
        .then(() => {
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
    const message = error instanceof SpoolError ? error.message : (coerceError(error).stack ?? String(error));
    process.stderr.write(`<3>spool: ${message}\n`);
    process.exit(error instanceof SpoolError && error.code === 'CONFIG_INVALID' ? 78 : 1);
  },
);
