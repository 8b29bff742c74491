/**
 * What every resolver gets: who is asking and the services it may call.
 * Resolvers call these services, never SQL.
 */
import DataLoader from 'dataloader';
import type { SpoolConfig } from '../config/config.schema.js';
import type { JobQueries } from '../jobs/job-queries.js';
import type { JobService } from '../jobs/job-service.js';
import type { Estimator } from '../scheduler/estimates.js';
import type { ApplianceState } from './appliance.js';
import type { Principal } from './auth.js';
import type { LiveHub } from './live.js';

export interface ApiServices {
  config: () => SpoolConfig;
  jobs: JobService;
  queries: JobQueries;
  estimator: Estimator;
  live: LiveHub<ApplianceState>;
  appliance: () => ApplianceState;
}

export interface ApiContext {
  principal: Principal;
  services: ApiServices;
  /** A per-request DataLoader by name, so fields of a page of jobs are read in one batch. */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V>;
}

export function createContext(principal: Principal, services: ApiServices): ApiContext {
  const loaders = new Map<string, DataLoader<unknown, unknown>>();
  return {
    principal,
    services,
    loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<V[]>) {
      let loader = loaders.get(name) as DataLoader<K, V> | undefined;
      if (!loader) {
        loader = new DataLoader<K, V>(batch);
        loaders.set(name, loader as DataLoader<unknown, unknown>);
      }
      return loader;
    },
  };
}
