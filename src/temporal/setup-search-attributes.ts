/**
 * Registers the project's custom search attributes on a Temporal namespace, idempotently.
 *
 * `npm run setup-search-attributes [-- --wait SECONDS] [--register-namespace [--retention-days N]]`
 * does it for TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (with the TEMPORAL_TLS_* and API key
 * settings); with --wait it keeps retrying while the cluster or the namespace is still coming up
 * (compose and the native cluster start it beside the server). --register-namespace first
 * creates the namespace when it is missing: a cluster set up by its schema tool has none. It
 * returns once a visibility query can use the attributes, so the app never starts a case the
 * server would refuse. Tests reuse `ensureSearchAttributes`.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { loadConfigOrExit } from '../config';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { temporalConnectionOptions } from './client';

/** temporal.api.enums.v1.IndexedValueType, by the SDK's type names. */
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};
const TYPE_NAME = Object.fromEntries(Object.entries(INDEXED_VALUE_TYPE).map(([name, n]) => [n, name])) as Record<
  number,
  string
>;

const GRPC = { NOT_FOUND: 5, ALREADY_EXISTS: 6, UNIMPLEMENTED: 12, UNAVAILABLE: 14, DEADLINE_EXCEEDED: 4 } as const;

export class SearchAttributeConflictError extends Error {}

export interface EnsureResult {
  added: string[];
  alreadyPresent: string[];
}

type Key = SearchAttributeKey<SearchAttributeType>;

function grpcCode(e: unknown): number | undefined {
  return isGrpcServiceError(e) ? e.code : undefined;
}

async function listCustom(connection: Connection, namespace: string): Promise<Record<string, number> | undefined> {
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    return { ...(res.systemAttributes ?? {}), ...(res.customAttributes ?? {}) } as Record<string, number>;
  } catch (e) {
    if (grpcCode(e) === GRPC.UNIMPLEMENTED) return undefined;
    throw e;
  }
}

function checkTypes(existing: Record<string, number>, keys: readonly Key[], namespace: string): void {
  const clashes = keys
    .filter((k) => existing[k.name] !== undefined && existing[k.name] !== INDEXED_VALUE_TYPE[k.type])
    .map(
      (k) =>
        `${k.name} is registered as ${TYPE_NAME[existing[k.name]!] ?? String(existing[k.name])}, this app needs ${k.type}`,
    );
  if (clashes.length > 0) {
    throw new SearchAttributeConflictError(
      `Search attributes on namespace "${namespace}" clash with this app:\n  ${clashes.join('\n  ')}\n` +
        'Remove them (temporal operator search-attribute remove) or use another namespace.',
    );
  }
}

/**
 * Makes sure every key exists on `namespace` with its type. Keys already registered with the same
 * type are left alone; one registered with another type raises SearchAttributeConflictError.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly Key[] = SEARCH_ATTRIBUTES,
): Promise<EnsureResult> {
  const existing = await listCustom(connection, namespace);
  if (existing === undefined) {
    // A server without ListSearchAttributes: add one by one and accept "already exists".
    const result: EnsureResult = { added: [], alreadyPresent: [] };
    for (const k of keys) {
      try {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: { [k.name]: INDEXED_VALUE_TYPE[k.type] },
        });
        result.added.push(k.name);
      } catch (e) {
        if (grpcCode(e) !== GRPC.ALREADY_EXISTS) throw e;
        result.alreadyPresent.push(k.name);
      }
    }
    return result;
  }
  checkTypes(existing, keys, namespace);
  const missing = keys.filter((k) => existing[k.name] === undefined);
  const alreadyPresent = keys.filter((k) => existing[k.name] !== undefined).map((k) => k.name);
  if (missing.length === 0) return { added: [], alreadyPresent };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]])),
    });
  } catch (e) {
    // Another process registered them at the same moment: fine if the types agree.
    if (grpcCode(e) !== GRPC.ALREADY_EXISTS) throw e;
    const now = await listCustom(connection, namespace);
    if (now) checkTypes(now, keys, namespace);
    return { added: [], alreadyPresent: keys.map((k) => k.name) };
  }
  return { added: missing.map((k) => k.name), alreadyPresent };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates `namespace` when it does not exist; true when this call created it. */
export async function ensureNamespace(
  connection: Connection,
  namespace: string,
  retentionDays: number,
): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (e) {
    if (grpcCode(e) !== GRPC.NOT_FOUND) throw e;
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      description: 'shortnotice cases',
      workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
    });
    return true;
  } catch (e) {
    // Registered by another process in the meantime.
    if (grpcCode(e) === GRPC.ALREADY_EXISTS) return false;
    throw e;
  }
}

/**
 * Resolves once a visibility query naming every key is accepted. On SQL visibility the
 * attributes are per-namespace aliases, which the frontend learns through its namespace cache
 * (refreshed every few seconds); a start before then would be refused.
 */
export async function waitForSearchAttributes(
  connection: Connection,
  namespace: string,
  timeoutMs: number,
  keys: readonly Key[] = SEARCH_ATTRIBUTES,
): Promise<void> {
  const query = keys.map((k) => `${k.name} IS NULL`).join(' AND ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace, query });
      return;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
      await sleep(500);
    }
  }
}

/** Codes worth retrying while a cluster or its namespace is still starting. */
function retryable(e: unknown): boolean {
  const code = grpcCode(e);
  if (code === GRPC.UNAVAILABLE || code === GRPC.NOT_FOUND || code === GRPC.DEADLINE_EXCEEDED) return true;
  // Connection.connect fails with a plain Error while nothing listens yet.
  return !isGrpcServiceError(e) && !(e instanceof SearchAttributeConflictError);
}

interface Options {
  waitMs: number;
  registerNamespace: boolean;
  retentionDays: number;
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nUsage: setup-search-attributes [--wait SECONDS] [--register-namespace [--retention-days DAYS]]\n`,
  );
  process.exit(64);
}

function parseArgs(argv: string[]): Options {
  const options: Options = { waitMs: 0, registerNamespace: false, retentionDays: 30 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = () => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0) usage(`${arg} takes a number, like ${arg} 30`);
      return n;
    };
    if (arg === '--wait') options.waitMs = number() * 1000;
    else if (arg === '--register-namespace') options.registerNamespace = true;
    else if (arg === '--retention-days') options.retentionDays = number();
    else usage(`Unknown argument: ${String(arg)}`);
  }
  if (options.retentionDays < 1) usage('--retention-days must be at least 1');
  return options;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const options = parseArgs(process.argv.slice(2));
  const { address, namespace } = config.temporal;
  const deadline = Date.now() + options.waitMs;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let lastMessage = '';
  for (;;) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 5000 });
      if (options.registerNamespace && (await ensureNamespace(connection, namespace, options.retentionDays))) {
        say(`Registered namespace "${namespace}" (retention ${options.retentionDays} days)`);
      }
      const result = await ensureSearchAttributes(connection, namespace);
      const added = result.added.length > 0 ? `added ${result.added.join(', ')}` : 'nothing to add';
      say(
        `Search attributes on ${address} namespace "${namespace}": ${added}` +
          (result.alreadyPresent.length > 0 ? `; already there: ${result.alreadyPresent.join(', ')}` : ''),
      );
      await waitForSearchAttributes(connection, namespace, Math.max(deadline - Date.now(), 30_000));
      say('Search attributes are usable in visibility queries.');
      return;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!retryable(e) || Date.now() >= deadline) {
        throw new Error(`Could not register search attributes on ${address} namespace "${namespace}": ${message}`);
      }
      if (message !== lastMessage) say(`Waiting for Temporal at ${address} (namespace "${namespace}"): ${message}`);
      lastMessage = message;
      await sleep(2000);
    } finally {
      await connection?.close();
    }
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
