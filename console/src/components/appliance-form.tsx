/**
 * URL and token of an appliance. Before saving, the console asks the
 * appliance for its name with the token: a typo in either is caught here,
 * in words, not later as a red dot.
 */
import { createSignal, Show, type Component } from 'solid-js';
import { describeError } from '../lib/errors';
import { normaliseApplianceUrl, postGraphql } from '../lib/graphql-http';
import { APPLIANCE_NAME } from '../lib/operations';

export interface ApplianceFormValue {
  url: string;
  token: string;
  name: string;
}

export async function checkAppliance(typedUrl: string, token: string): Promise<ApplianceFormValue> {
  const url = normaliseApplianceUrl(typedUrl);
  const data = await postGraphql<{ appliance: { name: string } }>({ url, token, label: url }, APPLIANCE_NAME);
  return { url, token, name: data.appliance.name };
}

export const ApplianceForm: Component<{
  initialUrl?: string;
  initialToken?: string;
  submitLabel: string;
  /** The URL is fixed (the appliance that served the page). */
  urlFixed?: boolean;
  onSave(value: ApplianceFormValue): void;
  onCancel?(): void;
}> = (props) => {
  const [url, setUrl] = createSignal(props.initialUrl ?? '');
  const [token, setToken] = createSignal(props.initialToken ?? '');
  const [error, setError] = createSignal<string | null>(null);
  const [checking, setChecking] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setError(null);
    setChecking(true);
    try {
      props.onSave(await checkAppliance(url(), token().trim()));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setChecking(false);
    }
  };

  return (
    <form class="appliance-form" onSubmit={submit} aria-describedby="form-error">
      <label>
        Appliance URL
        <input type="url" required value={url()} readOnly={props.urlFixed} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="http://edge-01:7420" autocomplete="url" />
      </label>
      <label>
        Token
        <input type="password" required value={token()} onInput={(e) => setToken(e.currentTarget.value)} placeholder="spool_…" autocomplete="current-password" />
      </label>
      <p class="hint muted">The token was printed once when the appliance first started, or make one with `spool token create --role operator`.</p>
      <div id="form-error" role="alert">
        <Show when={error()}>
          <p class="problem">{error()}</p>
        </Show>
      </div>
      <div class="form-buttons">
        <button type="submit" class="primary" disabled={checking()}>
          {checking() ? 'Checking…' : props.submitLabel}
        </button>
        <Show when={props.onCancel}>
          <button type="button" onClick={() => props.onCancel!()}>
            Cancel
          </button>
        </Show>
      </div>
    </form>
  );
};
