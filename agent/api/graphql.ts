/**
 * The GraphQL engine: Yoga over the Pothos schema with Spool's envelop
 * plugins. The same enveloped pipeline serves HTTP and graphql-ws, so auth,
 * limits and error masking apply to subscriptions too.
 *
 * Limits (graphql-armor; max-depth and cost-limit at versions that count
 * `__schema` only as a field, so a fragment or operation named `__schema`
 * cannot skip them):
 * - depth 15 (the deepest useful query, a job's follow-ons' dependencies,
 *   is 6; the standard introspection query is 15 with fragments flattened),
 * - 15 aliases, 2,000 tokens, 20 directives,
 * - cost 100,000 in armor's measure, which multiplies a field's cost by its
 *   literal `first`/`last`: a full page of 500 jobs with every scalar field
 *   is about 50,000, the introspection query about 15,000; 500 jobs with
 *   1,000 log lines each is far over,
 * - field suggestions withheld from error messages.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { getOperationAST, GraphQLError } from 'graphql';
import { SpoolError, type SpoolErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { hasRole, type Principal } from './auth.js';
import { createContext, type ApiContext, type ApiServices } from './context.js';
import { spoolSchema } from './schema/index.js';

/** Error codes a client may see with their message; everything else is masked. */
const EXPOSED: ReadonlySet<SpoolErrorCode | string> = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'INVALID_STATE', 'UNAUTHENTICATED', 'FORBIDDEN']);

/** What the HTTP and WebSocket layers hand the engine about a request. */
export interface ServerContext {
  principal: Principal;
}

export type SpoolYoga = YogaServerInstance<ServerContext, ApiContext>;

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

/** Mutations need the operator role; the check runs before any resolver. */
function useRoles(): Plugin<ApiContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      const { principal } = args.contextValue;
      if (operation?.operation === 'mutation' && !hasRole(principal, 'operator')) {
        setResultAndStopExecution({ errors: [forbidden(`token "${principal.name}" has the ${principal.role} role; changing jobs or the queue needs operator or admin`)] });
      }
    },
  };
}

/**
 * Gives parse and validation errors a code: limits from graphql-armor are
 * the client's fault (BAD_USER_INPUT), other validation errors are
 * GRAPHQL_VALIDATION_FAILED, as most GraphQL clients expect.
 */
function useErrorCodes(): Plugin {
  const withCode = (error: GraphQLError, code: string) =>
    error.extensions?.code ? error : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code } });
  const isLimit = (error: GraphQLError) => /limit of \d+ exceeded/i.test(error.message);
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((e) => withCode(e, isLimit(e) ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(withCode(result, isLimit(result) ? 'BAD_USER_INPUT' : 'GRAPHQL_PARSE_FAILED'));
      };
    },
  };
}

/**
 * Armor's default throws out of validation, which skips the other rules and
 * error codes; reported instead, a refusal is an ordinary validation error.
 */
const REPORT = {
  propagateOnRejection: false,
  onReject: [(context: { reportError(error: GraphQLError): void } | null, error: GraphQLError) => context?.reportError(error)],
};

export function createGraphql(deps: { services: ApiServices; logger: Logger }): SpoolYoga {
  return createYoga<ServerContext, ApiContext>({
    schema: spoolSchema(),
    graphqlEndpoint: '/graphql',
    // The console is the UI; GraphiQL would load its code from a CDN an appliance may not reach.
    graphiql: false,
    landingPage: false,
    // CORS and origins are decided in server.ts before a request gets here.
    cors: false,
    multipart: false,
    batching: false,
    logging: {
      debug: (...args: unknown[]) => deps.logger.debug(args.map(String).join(' ')),
      info: (...args: unknown[]) => deps.logger.info(args.map(String).join(' ')),
      warn: (...args: unknown[]) => deps.logger.warn(args.map(String).join(' ')),
      // Yoga reports every resolver error here, expected ones (NOT_FOUND …) too; maskError logs the unexpected ones as errors.
      error: (...args: unknown[]) => deps.logger.debug(args.map(String).join(' ')),
    },
    context: ({ principal }) => createContext(principal, deps.services),
    maskedErrors: {
      // Duck-typed on purpose: under test runners graphql can load twice (ESM and CJS), so instanceof GraphQLError is not reliable.
      maskError(error) {
        const located = error as { originalError?: unknown; nodes?: GraphQLError['nodes']; path?: GraphQLError['path']; extensions?: Record<string, unknown>; message?: string };
        const original = located.originalError ?? error;
        if (original instanceof SpoolError && EXPOSED.has(original.code)) {
          return new GraphQLError(original.message, { nodes: located.nodes, path: located.path, extensions: { code: original.code } });
        }
        const originalCode = (original as { extensions?: Record<string, unknown> }).extensions?.code;
        if (original !== error && EXPOSED.has(String(originalCode))) return original as Error;
        if (!located.originalError && typeof located.extensions === 'object') return error as Error; // parse, validation and limit errors
        deps.logger.error(`API request failed: ${original instanceof Error ? (original.stack ?? original.message) : String(original)}`);
        return new GraphQLError('Internal error; the agent log has the details', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 15, ignoreIntrospection: false, flattenFragments: true, ...REPORT },
        maxAliases: { n: 15, ...REPORT },
        maxTokens: { n: 2000 }, // checked while parsing, where there is no validation context to report to
        maxDirectives: { n: 20, ...REPORT },
        costLimit: { maxCost: 100_000, ignoreIntrospection: false, flattenFragments: true, ...REPORT },
        blockFieldSuggestion: { enabled: true },
      }),
      useErrorCodes(),
      useRoles(),
    ],
  });
}
