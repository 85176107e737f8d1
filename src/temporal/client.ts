/**
 * The one Temporal connection and client of a process, built from config and closed on shutdown.
 * Its data converter encrypts every payload (PAYLOAD_KEYS) and failure message. Every connection
 * of this app (web, worker, setup, `npm run stuck`) takes its address, TLS and API key from
 * `temporalConnectionOptions`, so none of them can be left on plaintext by accident.
 */
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { Config, TemporalConfig } from '../config';
import { tracingClientInterceptors } from '../tracing';
import { encryptedDataConverter } from './codec';

export interface TemporalClient {
  client: Client;
  close(): Promise<void>;
}

/** The shape both Connection (client) and NativeConnection (worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionOptions(
  t: Pick<TemporalConfig, 'address' | 'tls' | 'apiKey'>,
): TemporalConnectionOptions {
  const tls: TLSConfig | undefined = t.tls
    ? {
        ...(t.tls.ca ? { serverRootCACertificate: t.tls.ca } : {}),
        ...(t.tls.clientCert ? { clientCertPair: { crt: t.tls.clientCert.cert, key: t.tls.clientCert.key } } : {}),
        ...(t.tls.serverName ? { serverNameOverride: t.tls.serverName } : {}),
      }
    : undefined;
  return { address: t.address, ...(tls ? { tls } : {}), ...(t.apiKey ? { apiKey: t.apiKey } : {}) };
}

export async function connectTemporal(config: Config): Promise<TemporalClient> {
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: encryptedDataConverter(config.payloadKeys),
    // With traces on, a start or signal carries the caller's trace into the workflow.
    ...(config.tracing ? { interceptors: tracingClientInterceptors() } : {}),
  });
  return { client, close: () => connection.close() };
}
