/**
 * The one Temporal connection and client of a process, built from config and closed on shutdown.
 * Its data converter encrypts every payload (PAYLOAD_KEYS) and failure message.
 */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { encryptedDataConverter } from './codec';

export interface TemporalClient {
  client: Client;
  close(): Promise<void>;
}

export async function connectTemporal(config: Config): Promise<TemporalClient> {
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: encryptedDataConverter(config.payloadKeys) });
  return { client, close: () => connection.close() };
}
