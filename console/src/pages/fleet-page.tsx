/** The main screen: every appliance at a glance, and one job list across them. */
import { For, type Component } from 'solid-js';
import { ApplianceCard } from '../components/appliance-card';
import { JobsPanel } from '../components/jobs-panel';
import { useConsole } from '../state/console-context';

export const FleetPage: Component = () => {
  const { fleet } = useConsole();
  return (
    <main class="fleet-page">
      <section class="fleet" aria-label="Appliances">
        <For each={fleet.members()}>{(member) => <ApplianceCard member={member} />}</For>
      </section>
      <JobsPanel />
    </main>
  );
};
