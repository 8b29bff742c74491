/** The executable schema, and its SDL as printed into schema/ (sorted, so diffs stay small). */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './types.js';
import './operations.js';

let schema: GraphQLSchema | undefined;

export function spoolSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: false });
  return schema;
}

export function printSpoolSchema(): string {
  return `${printSchema(lexicographicSortSchema(spoolSchema()))}\n`;
}
