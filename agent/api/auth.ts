/**
 * API tokens. Only SHA-256 hashes are ever stored: in the config file
 * (`server.tokens`), or, for the admin token made on a first start without
 * any, in the database. A token is shown once, when it is made.
 *
 * Roles are ordered: a viewer reads, an operator also steers jobs and the
 * queue, an admin may do everything.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SpoolConfig } from '../config/config.schema.js';
import type { Db } from '../db/database.js';
import { getState, setState } from '../db/state.repository.js';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  name: string;
  role: Role;
}

/** Where the first-start admin token's hash is kept. */
const FIRST_TOKEN_KEY = 'api.firstAdminToken';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: a recognisable prefix and 256 bits of randomness. */
export function newToken(): string {
  return `spool_${randomBytes(32).toString('base64url')}`;
}

export function hasRole(principal: Principal, needed: Role): boolean {
  return ROLES.indexOf(principal.role) >= ROLES.indexOf(needed);
}

/** The YAML line that grants a token, to paste under `server.tokens`. */
export function tokenConfigLine(name: string, role: Role, token: string): string {
  return `    - { name: ${JSON.stringify(name)}, role: ${role}, sha256: "${hashToken(token)}" }`;
}

/** The token from an `Authorization: Bearer …` value; null when there is none or the scheme is not Bearer. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

export interface TokenStore {
  /** Who a token belongs to, or null for an unknown one. */
  verify(token: string | null): Principal | null;
  /**
   * On a start with no token configured and none made before: makes an admin
   * token, keeps its hash, and returns it (the caller prints it once).
   */
  ensureFirstToken(): Promise<string | null>;
  /** Re-reads configured tokens (after a config reload). */
  reload(config: SpoolConfig): void;
}

interface Entry extends Principal {
  hash: Buffer;
}

export async function createTokenStore(db: Db, config: SpoolConfig): Promise<TokenStore> {
  let configured: Entry[] = [];
  let first: Entry | null = null;
  const load = (c: SpoolConfig) => {
    configured = c.server.tokens.map((t) => ({ name: t.name, role: t.role, hash: Buffer.from(t.sha256, 'hex') }));
  };
  load(config);
  const stored = await getState(db, FIRST_TOKEN_KEY);
  if (stored) first = { name: 'first-start admin', role: 'admin', hash: Buffer.from(stored, 'hex') };

  return {
    verify(token) {
      if (!token) return null;
      const hash = createHash('sha256').update(token, 'utf8').digest();
      // Compare against every entry in constant time, so timing says nothing about which hash is near.
      let found: Principal | null = null;
      for (const entry of first ? [...configured, first] : configured) {
        if (timingSafeEqual(entry.hash, hash) && !found) found = { name: entry.name, role: entry.role };
      }
      return found;
    },
    async ensureFirstToken() {
      if (configured.length > 0 || first) return null;
      const token = newToken();
      await setState(db, FIRST_TOKEN_KEY, hashToken(token));
      first = { name: 'first-start admin', role: 'admin', hash: Buffer.from(hashToken(token), 'hex') };
      return token;
    },
    reload: load,
  };
}
