/** The one Temporal connection and client of a process, built from config and closed on shutdown. */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface TemporalClient {
  client: Client;
  close(): Promise<void>;
}

export async function connectTemporal(config: Config): Promise<TemporalClient> {
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return { client, close: () => connection.close() };
}
