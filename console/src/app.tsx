/**
 * The console's shell: header with navigation, theme and notifications,
 * the feedback area, and the screen the address names. Until an appliance
 * is known it shows the sign-in screen instead.
 */
import { Match, onCleanup, Show, Switch, type Component } from 'solid-js';
import { NoticesView } from './components/notices-view';
import { createNotifier } from './lib/notifications';
import { createRouter, href } from './lib/router';
import { createTheme, type ThemeChoice } from './lib/theme';
import { AppliancesPage } from './pages/appliances-page';
import { FleetPage } from './pages/fleet-page';
import { JobPage } from './pages/job-page';
import { LoginPage } from './pages/login-page';
import { ConsoleContext, type ConsoleServices } from './state/console-context';
import { createFleet } from './state/fleet';
import { createJobStore } from './state/job-store';
import { createNotices } from './state/notices';
import { createSavedAppliances } from './state/saved-appliances';

export const App: Component = () => {
  const saved = createSavedAppliances();
  const jobs = createJobStore();
  const fleet = createFleet({ saved, jobs });
  const notices = createNotices();
  const notifier = createNotifier();
  const theme = createTheme();
  const router = createRouter();
  const services: ConsoleServices = { saved, fleet, jobs, notices, notifier, go: router.go };

  onCleanup(
    jobs.onFinished((row) => {
      const where = fleet.member(row.applianceId)?.name() ?? '';
      notifier.notify(`${row.status === 'COMPLETED' ? 'Completed' : 'Failed'}: ${row.fileName}`, `${row.profile} on ${where}${row.error ? ` — ${row.error}` : ''}`, row.key);
    }),
  );

  const jobRoute = () => {
    const route = router.route();
    return route.name === 'job' ? route : null;
  };
  const online = () => fleet.members().filter((m) => m.link.status() === 'online').length;

  return (
    <ConsoleContext.Provider value={services}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Show when={saved.list().length > 0} fallback={<LoginPage saved={saved} />}>
        <header class="topbar">
          <a class="brand" href={href({ name: 'fleet' })}>
            Spool
          </a>
          <nav aria-label="Main">
            <a href={href({ name: 'fleet' })} aria-current={router.route().name !== 'appliances' ? 'page' : undefined}>
              Fleet &amp; jobs
            </a>
            <a href={href({ name: 'appliances' })} aria-current={router.route().name === 'appliances' ? 'page' : undefined}>
              Appliances
            </a>
          </nav>
          <span class="muted fleet-summary" data-testid="fleet-summary">
            {online()} of {fleet.members().length} online
          </span>
          <div class="topbar-tools">
            <label class="switch">
              <input
                type="checkbox"
                checked={notifier.state() === 'on'}
                disabled={notifier.state() === 'unsupported' || notifier.state() === 'blocked'}
                onChange={(e) => (e.currentTarget.checked ? void notifier.enable() : notifier.disable())}
              />
              Notify when jobs finish
              <Show when={notifier.state() === 'blocked'}>
                <span class="muted"> (blocked in the browser's site settings)</span>
              </Show>
            </label>
            <label>
              Theme
              <select value={theme.choice()} onChange={(e) => theme.set(e.currentTarget.value as ThemeChoice)}>
                <option value="system">As the system</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
          </div>
        </header>
        <NoticesView notices={notices} />
        <div id="main" tabindex="-1">
          <Switch fallback={<FleetPage />}>
            <Match when={router.route().name === 'appliances'}>
              <AppliancesPage />
            </Match>
            <Match when={jobRoute()} keyed>
              {(r) => <JobPage applianceId={r.applianceId} jobId={r.jobId} />}
            </Match>
          </Switch>
        </div>
      </Show>
    </ConsoleContext.Provider>
  );
};
