/**
 * Registers the project's custom search attributes on a Temporal namespace, idempotently.
 *
 * `npm run setup-search-attributes [-- --wait SECONDS]` does it for TEMPORAL_ADDRESS and
 * TEMPORAL_NAMESPACE; with --wait it keeps retrying while the cluster or the namespace is still
 * coming up (docker compose starts it beside the server). Tests reuse `ensureSearchAttributes`.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { loadConfigOrExit } from '../config';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';

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
const TYPE_NAME = Object.fromEntries(Object.entries(INDEXED_VALUE_TYPE).map(([name, n]) => [n, name])) as Record<number, string>;

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
    .map((k) => `${k.name} is registered as ${TYPE_NAME[existing[k.name]!] ?? String(existing[k.name])}, this app needs ${k.type}`);
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
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { [k.name]: INDEXED_VALUE_TYPE[k.type] } });
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

/** Codes worth retrying while a cluster or its namespace is still starting. */
function retryable(e: unknown): boolean {
  const code = grpcCode(e);
  if (code === GRPC.UNAVAILABLE || code === GRPC.NOT_FOUND || code === GRPC.DEADLINE_EXCEEDED) return true;
  // Connection.connect fails with a plain Error while nothing listens yet.
  return !isGrpcServiceError(e) && !(e instanceof SearchAttributeConflictError);
}

function parseWait(argv: string[]): number {
  const i = argv.indexOf('--wait');
  if (i === -1) return 0;
  const seconds = Number(argv[i + 1]);
  if (!Number.isFinite(seconds) || seconds < 0) {
    process.stderr.write('--wait takes a number of seconds, like --wait 120\n');
    process.exit(64);
  }
  return seconds * 1000;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const waitMs = parseWait(process.argv.slice(2));
  const { address, namespace } = config.temporal;
  const deadline = Date.now() + waitMs;
  let lastMessage = '';
  for (;;) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 5000 });
      const result = await ensureSearchAttributes(connection, namespace);
      const added = result.added.length > 0 ? `added ${result.added.join(', ')}` : 'nothing to add';
      process.stdout.write(`Search attributes on ${address} namespace "${namespace}": ${added}` +
        (result.alreadyPresent.length > 0 ? `; already there: ${result.alreadyPresent.join(', ')}` : '') + '\n');
      return;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!retryable(e) || Date.now() >= deadline) {
        throw new Error(`Could not register search attributes on ${address} namespace "${namespace}": ${message}`);
      }
      if (message !== lastMessage) process.stdout.write(`Waiting for Temporal at ${address} (namespace "${namespace}"): ${message}\n`);
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
