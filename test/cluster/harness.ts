/**
 * Starts the native cluster for a test file: fresh state under var/test-cluster/<name>, free
 * ports, the test's own SMTP sink, an API token for the load generator, and distinct team
 * addresses. Gives a Temporal client with the app's certificate and PAYLOAD_KEYS.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { provisionCluster } from '../../src/dev/cluster-binaries';
import { NativeCluster, type NativeClusterOptions } from '../../src/dev/cluster';
import { parseKeyList } from '../../src/keys';
import { CASE_WORKFLOW_PREFIX } from '../../src/shared/ids';
import { CaseStage } from '../../src/shared/search-attributes';
import { encryptedDataConverter } from '../../src/temporal/codec';
import { NETWORK_TEAM } from './expectations';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface TestCluster {
  cluster: NativeCluster;
  client: Client;
  token: string;
  webUrls: string[];
  /** Case id -> CaseStage of every case of the scenario `tag`, from SQL visibility. */
  stages(tag: string): Promise<Map<string, string | undefined>>;
  close(): Promise<void>;
}

const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

export async function startTestCluster(
  name: string,
  smtpUrl: string,
  extra: Pick<NativeClusterOptions, 'env'> = {},
): Promise<TestCluster> {
  const binaries = await provisionCluster({ log });
  const token = randomBytes(32).toString('base64url');
  const teams = {
    NETWORK_CLINICAL_EMAIL: NETWORK_TEAM,
    PROVIDER_EMAIL: 'provider@cluster.test',
    SUPPORT_EMAIL: 'support@cluster.test',
    RISK_DUTY_EMAIL: 'risk@cluster.test',
  };
  const cluster = await NativeCluster.create({
    root: ROOT,
    dir: path.join(ROOT, 'var', 'test-cluster', name),
    binaries,
    fresh: true,
    smtpUrl,
    // The load's therapists write from cluster.test, a staff domain here (S10 refuses others under OIDC).
    settings: { API_TOKENS: `loadgen:${token}:submit+read`, STAFF_EMAIL_DOMAINS: 'cluster.test' },
    env: { ...extra.env, worker: { ...teams, ...(extra.env?.worker ?? {}) } },
    log,
  });
  try {
    await cluster.start();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  const connection = await cluster.connect();
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: encryptedDataConverter(parseKeyList(cluster.environment('web-1').PAYLOAD_KEYS!)),
  });
  return {
    cluster,
    client,
    token,
    webUrls: [cluster.webUrls['web-1'], cluster.webUrls['web-2']],
    async stages(tag) {
      const out = new Map<string, string | undefined>();
      // The cases only: each scenario's therapist also has an absence workflow with the same TherapistRef.
      for await (const wf of client.workflow.list({ query: `TherapistRef = '${tag}' AND WorkflowType = 'cancellationCase'` })) {
        out.set(wf.workflowId.slice(CASE_WORKFLOW_PREFIX.length), wf.typedSearchAttributes.get(CaseStage));
      }
      return out;
    },
    async close() {
      await connection.close();
      await cluster.stop();
    },
  };
}
