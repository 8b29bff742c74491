/**
 * systemd/install.sh and uninstall.sh: syntax, shellcheck, and a real run
 * into a temporary root (`--root DIR`), which needs no systemd PID 1: the
 * account files, the app, the config, the folders and the enabled unit are
 * all checked there, and so is a second run (the upgrade) and both kinds of
 * uninstall.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../agent/config/load-config.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INSTALL = path.join(REPO, 'systemd/install.sh');
const UNINSTALL = path.join(REPO, 'systemd/uninstall.sh');

const noShellcheck = spawnSync('shellcheck', ['--version']).error ? 'shellcheck is not installed (Debian package shellcheck; .ci/run installs it)' : null;
const cannotInstall =
  process.getuid?.() !== 0
    ? 'install.sh runs as root'
    : spawnSync('useradd', ['--help']).error || spawnSync('systemctl', ['--version']).error
      ? 'useradd or systemctl is missing (Debian packages passwd and systemd)'
      : !fs.existsSync(path.join(REPO, 'dist/agent/cli.js'))
        ? 'dist/ is not built (npm run build)'
        : null;

function run(script: string, args: string[]) {
  const result = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('install.sh and uninstall.sh', () => {
  it.each([INSTALL, UNINSTALL])('%s parses (bash -n) and is executable', (script) => {
    expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    expect(fs.statSync(script).mode & 0o111).toBe(0o111);
  });

  it.skipIf(noShellcheck !== null)(`pass shellcheck${noShellcheck ? ` (skipped: ${noShellcheck})` : ''}`, () => {
    const result = spawnSync('shellcheck', [INSTALL, UNINSTALL], { encoding: 'utf8' });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
  });

  it('refuse an unknown option with the usage', () => {
    const result = run(INSTALL, ['--frobnicate']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Installs or upgrades Spool[\s\S]*install: unknown option: --frobnicate/);
  });

  describe.skipIf(cannotInstall !== null)(`run into a temporary root${cannotInstall ? ` (skipped: ${cannotInstall})` : ''}`, () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-root-'));
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
    const at = (p: string) => path.join(root, p);
    const passwd = () => fs.readFileSync(at('etc/passwd'), 'utf8');
    const group = () => fs.readFileSync(at('etc/group'), 'utf8');
    const spoolIds = () => {
      const [, uid, gid] = /^spool:x:(\d+):(\d+):/m.exec(passwd())!;
      return { uid: Number(uid), gid: Number(gid) };
    };

    it('installs: user, groups, app, wrapper, config, folders, enabled unit', () => {
      fs.mkdirSync(at('etc'));
      // A fresh system's account files, with root only.
      for (const file of ['passwd', 'group', 'shadow', 'gshadow']) {
        const rootLine = fs.readFileSync(`/etc/${file}`, 'utf8').split('\n').find((l) => l.startsWith('root:'))!;
        fs.writeFileSync(at(`etc/${file}`), rootLine + '\n', { mode: file.endsWith('shadow') ? 0o640 : 0o644 });
      }
      const result = run(INSTALL, ['--root', root]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/install: created system user spool\n/);
      expect(result.stdout).toMatch(/install: wrote \/etc\/spool\/spool\.yaml\n/);

      expect(passwd()).toMatch(/^spool:x:\d+:\d+:Spool media-job agent:\/var\/lib\/spool:\/usr\/sbin\/nologin$/m);
      expect(group()).toMatch(/^video:/m);
      expect(group()).toMatch(/^render:/m);
      const { uid, gid } = spoolIds();

      // The app: built code and production dependencies only, owned by root.
      const pkg = JSON.parse(fs.readFileSync(at('opt/spool/package.json'), 'utf8')) as { version: string };
      expect(fs.existsSync(at('opt/spool/dist/agent/cli.js'))).toBe(true);
      expect(fs.existsSync(at('opt/spool/dist/test'))).toBe(false);
      expect(fs.existsSync(at('opt/spool/console/dist/index.html'))).toBe(true);
      expect(fs.existsSync(at('opt/spool/console/src'))).toBe(false);
      expect(fs.existsSync(at('opt/spool/node_modules/better-sqlite3'))).toBe(true);
      expect(fs.existsSync(at('opt/spool/node_modules/vitest'))).toBe(false);
      expect(fs.existsSync(at('opt/spool/node_modules/typescript'))).toBe(false);
      expect(fs.statSync(at('opt/spool/dist/agent/cli.js'))).toMatchObject({ uid: 0 });
      // Every module the CLI imports loads from the pruned tree.
      const version = spawnSync(process.execPath, [at('opt/spool/dist/agent/cli.js'), '--version'], { encoding: 'utf8' });
      expect(version.stdout).toBe(`${pkg.version}\n`);
      expect(fs.readFileSync(at('opt/spool/bin/spool'), 'utf8')).toContain(`exec ${fs.realpathSync(process.execPath)} /opt/spool/dist/agent/cli.js "$@"`);
      expect(fs.readlinkSync(at('usr/local/bin/spool'))).toBe('/opt/spool/bin/spool');

      // The config parses, and only root and the agent's group may read it.
      const config = loadConfigFile(at('etc/spool/spool.yaml'));
      expect(config.dataDir).toBe('/var/lib/spool');
      expect(config.inboxes.map((i) => i.path)).toEqual(['web', 'thumbnail', 'chat-8mb', 'probe'].map((p) => `/srv/spool/inbox/${p}`));
      expect(fs.statSync(at('etc/spool/spool.yaml'))).toMatchObject({ uid: 0, gid, mode: 0o100640 });
      for (const folder of ['inbox/web', 'outbox/web', 'inbox/probe']) {
        expect(fs.statSync(at(`srv/spool/${folder}`))).toMatchObject({ uid, gid, mode: 0o42770 });
      }

      expect(fs.readFileSync(at('etc/systemd/system/spool-agent.service'), 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'systemd/spool-agent.service'), 'utf8'));
      expect(fs.readlinkSync(at('etc/systemd/system/multi-user.target.wants/spool-agent.service'))).toBe('/etc/systemd/system/spool-agent.service');
    });

    it('runs again as an upgrade: same user, config kept, app replaced', () => {
      const before = spoolIds();
      fs.appendFileSync(at('etc/spool/spool.yaml'), '# edited by the administrator\n');
      fs.writeFileSync(at('opt/spool/stale-file'), 'from the old version');
      const result = run(INSTALL, ['--root', root]);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/install: user spool exists\n[\s\S]*install: kept \/etc\/spool\/spool\.yaml\n/);
      expect(spoolIds()).toEqual(before);
      expect(passwd().match(/^spool:/gm)).toHaveLength(1);
      expect(fs.readFileSync(at('etc/spool/spool.yaml'), 'utf8')).toMatch(/# edited by the administrator\n$/);
      expect(fs.existsSync(at('opt/spool/stale-file'))).toBe(false);
      expect(fs.existsSync(at('opt/spool.new')) || fs.existsSync(at('opt/spool.old'))).toBe(false);
    });

    it('uninstalls keeping data and config, then purges them but never the inboxes', () => {
      fs.mkdirSync(at('var/lib/spool'), { recursive: true });
      fs.writeFileSync(at('var/lib/spool/spool.db'), 'data');
      fs.writeFileSync(at('srv/spool/inbox/web/clip.mov'), 'someone’s file');

      const kept = run(UNINSTALL, ['--root', root]);
      expect(kept.status).toBe(0);
      expect(fs.existsSync(at('opt/spool'))).toBe(false);
      expect(fs.existsSync(at('usr/local/bin/spool'))).toBe(false);
      expect(fs.existsSync(at('etc/systemd/system/spool-agent.service'))).toBe(false);
      expect(fs.existsSync(at('etc/systemd/system/multi-user.target.wants/spool-agent.service'))).toBe(false);
      expect(fs.existsSync(at('var/lib/spool/spool.db'))).toBe(true);
      expect(fs.existsSync(at('etc/spool/spool.yaml'))).toBe(true);
      expect(passwd()).toMatch(/^spool:/m);

      const purged = run(UNINSTALL, ['--root', root, '--purge']);
      expect(purged.status).toBe(0);
      expect(fs.existsSync(at('var/lib/spool'))).toBe(false);
      expect(fs.existsSync(at('etc/spool'))).toBe(false);
      expect(passwd()).not.toMatch(/^spool:/m);
      expect(fs.readFileSync(at('srv/spool/inbox/web/clip.mov'), 'utf8')).toBe('someone’s file');
      expect(purged.stdout).toMatch(/left \/srv\/spool .* in place/);
    });
  });
});
