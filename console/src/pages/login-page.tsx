/**
 * First visit: the console asks for the token of the appliance that served
 * it, and adds that appliance. Hosted elsewhere (a static host, a file),
 * it asks for an appliance URL too.
 */
import { createResource, Show, type Component } from 'solid-js';
import { ApplianceForm } from '../components/appliance-form';
import type { SavedAppliances } from '../state/saved-appliances';

/** Whether the page came from a Spool agent: it answers /healthz beside the console. */
async function servedByAgent(): Promise<boolean> {
  if (!location.protocol.startsWith('http')) return false;
  try {
    const response = await fetch(new URL('/healthz', location.origin), { signal: AbortSignal.timeout(3000) });
    return response.ok && ((await response.json()) as { status?: string }).status === 'ok';
  } catch {
    return false;
  }
}

export const LoginPage: Component<{ saved: SavedAppliances }> = (props) => {
  const [agent] = createResource(servedByAgent);
  return (
    <main class="login">
      <h1>Spool console</h1>
      <Show when={!agent.loading} fallback={<p class="muted">Looking for the appliance…</p>}>
        <p>{agent() ? 'Sign in to this appliance with its token.' : 'Add the first appliance to watch: its URL and a token.'}</p>
        <ApplianceForm initialUrl={agent() ? location.origin : ''} urlFixed={agent()} submitLabel="Sign in" onSave={(value) => props.saved.add(value)} />
      </Show>
    </main>
  );
};
