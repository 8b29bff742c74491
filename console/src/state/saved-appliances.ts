/**
 * The appliances this browser knows: URL and token, kept in localStorage.
 * The token is stored as the operator typed it because every request needs
 * it; the console is a tool on the operator's own machine, like a CLI
 * config file with a token in it.
 */
import { createSignal, type Accessor } from 'solid-js';

export interface SavedAppliance {
  /** Stable local id: URLs may be edited, job links keep working. */
  id: string;
  url: string;
  token: string;
  /** The appliance's name when it was last seen, for showing before it answers. */
  name: string;
}

export const STORAGE_KEY = 'spool.appliances';

export interface SavedAppliances {
  list: Accessor<SavedAppliance[]>;
  add(entry: Omit<SavedAppliance, 'id'>): SavedAppliance;
  update(id: string, changes: Partial<Omit<SavedAppliance, 'id'>>): void;
  remove(id: string): void;
}

function read(storage: Storage): SavedAppliance[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((a): a is SavedAppliance => typeof a?.id === 'string' && typeof a?.url === 'string' && typeof a?.token === 'string').map((a) => ({ ...a, name: String(a.name ?? a.url) }));
  } catch {
    return [];
  }
}

export function createSavedAppliances(storage: Storage = localStorage, newId: () => string = () => crypto.randomUUID().slice(0, 8)): SavedAppliances {
  const [list, setList] = createSignal<SavedAppliance[]>(read(storage));
  const save = (next: SavedAppliance[]) => {
    storage.setItem(STORAGE_KEY, JSON.stringify(next));
    setList(next);
  };
  return {
    list,
    add(entry) {
      const saved = { ...entry, id: newId() };
      save([...list(), saved]);
      return saved;
    },
    update(id, changes) {
      save(list().map((a) => (a.id === id ? { ...a, ...changes } : a)));
    },
    remove(id) {
      save(list().filter((a) => a.id !== id));
    },
  };
}
