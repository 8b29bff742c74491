/** Add, edit and remove the appliances this console watches. */
import { createSignal, For, Show, type Component } from 'solid-js';
import { ApplianceForm } from '../components/appliance-form';
import { LinkStatusBadge } from '../components/link-status';
import { useConsole } from '../state/console-context';

export const AppliancesPage: Component = () => {
  const { saved, fleet, notices } = useConsole();
  const [adding, setAdding] = createSignal(false);
  const [editing, setEditing] = createSignal<string | null>(null);

  return (
    <main class="appliances-page">
      <h2>Appliances</h2>
      <ul class="appliance-list">
        <For each={fleet.members()}>
          {(member) => (
            <li class="card" data-appliance-entry={member.name()}>
              <div class="card-head">
                <div>
                  <strong>{member.name()}</strong> <span class="muted">{member.saved.url}</span>
                </div>
                <LinkStatusBadge status={member.link.status()} problem={member.link.problem()} />
              </div>
              <Show when={member.link.problem()}>
                <p class="problem">{member.link.problem()}</p>
              </Show>
              <Show
                when={editing() === member.id}
                fallback={
                  <div class="form-buttons">
                    <button type="button" onClick={() => setEditing(member.id)} aria-label={`Edit ${member.name()}`}>
                      Edit
                    </button>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Remove ${member.name()}`}
                      onClick={() => {
                        if (!confirm(`Stop watching ${member.name()} from this browser? The appliance itself is not touched.`)) return;
                        saved.remove(member.id);
                        notices.ok(`Removed ${member.name()} from this console`);
                      }}
                    >
                      Remove
                    </button>
                  </div>
                }
              >
                <ApplianceForm
                  initialUrl={member.saved.url}
                  initialToken={member.saved.token}
                  submitLabel="Save"
                  onCancel={() => setEditing(null)}
                  onSave={(value) => {
                    saved.update(member.id, value);
                    setEditing(null);
                    notices.ok(`Saved ${value.name}`);
                  }}
                />
              </Show>
            </li>
          )}
        </For>
      </ul>
      <Show
        when={adding()}
        fallback={
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            Add an appliance
          </button>
        }
      >
        <section class="card" aria-label="Add an appliance">
          <h3>Add an appliance</h3>
          <ApplianceForm
            submitLabel="Add"
            onCancel={() => setAdding(false)}
            onSave={(value) => {
              if (saved.list().some((a) => a.url === value.url)) {
                notices.error(`${value.url} is already in the list; edit it instead`);
                return;
              }
              saved.add(value);
              setAdding(false);
              notices.ok(`Added ${value.name}`);
            }}
          />
        </section>
      </Show>
      <p class="muted hint">
        An appliance on another address must allow this console's origin (<code>{location.origin}</code>) in its <code>server.allowedOrigins</code>.
      </p>
    </main>
  );
};
