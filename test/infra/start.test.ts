/**
 * The `npm start` launcher, run as its own process with stand-in worker and web children on free
 * ports and a temp database: start-up, Ctrl-C, restart on the same database, a crashing child,
 * and a port already in use.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse } from 'yaml';
import { freePort } from '../../src/dev/binaries';
import { DYNAMIC_CONFIG } from '../../src/dev/cluster-definition';
import { DEV_SERVER_DYNAMIC_CONFIG, devServerArgs, portInUse } from '../../src/dev/start';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

const FIXTURE = path.join(__dirname, 'fixtures', 'run-launcher.ts');

interface Launch {
  output: () => string;
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  exited: Promise<number | null>;
  signal: (s: NodeJS.Signals) => void;
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

let root: string;
let ports: { temporal: number; ui: number; web: number };
const launched: Launch[] = [];

function launch(extraEnv: NodeJS.ProcessEnv = {}): Launch {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), FIXTURE], {
    env: {
      ...process.env,
      FIXTURE_ROOT: root,
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      TEMPORAL_UI_URL: `http://127.0.0.1:${ports.ui}`,
      PORT: String(ports.web),
      SMTP_URL: '',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const l: Launch = {
    output: () => out,
    exited,
    signal: (s) => child.kill(s),
    waitFor: async (text, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`launcher never printed "${text}":\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  launched.push(l);
  return l;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-start-'));
  ports = { temporal: await freePort(), ui: await freePort(), web: await freePort() };
});

afterAll(async () => {
  for (const l of launched) l.signal('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

describe('dev server arguments', () => {
  it('when built, then they persist to the file, pass every search attribute, and make no outbound call', () => {
    const args = devServerArgs({ dbFile: '/db/dev.db', port: 7233, uiPort: 8233, namespace: 'default' }).join(' ');
    expect(args).toMatch(/^server start-dev --db-filename \/db\/dev\.db --ip 127\.0\.0\.1 --port 7233 --ui-port 8233 /);
    for (const k of SEARCH_ATTRIBUTES) expect(args).toContain(`--search-attribute ${k.name}=`);
    expect(args).toContain('--search-attribute EscalatedTo=KeywordList');
    expect(args).toContain('--search-attribute NextDeadline=Datetime');
    expect(args).toContain('--dynamic-config-value frontend.enableServerVersionCheck=false');
    expect(args).toContain('--dynamic-config-value system.enableActivityEagerExecution=true');
    expect(args).toContain('--sqlite-pragma journal_mode=WAL');
    expect(args).not.toContain('--namespace');
  });

  it('when built, then they carry the cluster\'s dynamic config, eager activity execution included', () => {
    const cluster = parse(fs.readFileSync(path.join(__dirname, '..', '..', DYNAMIC_CONFIG), 'utf8')) as Record<string, Array<{ value: unknown }>>;
    const flags = Object.entries(cluster).map(([key, values]) => `${key}=${JSON.stringify(values[0]!.value)}`);
    expect(flags).toContain('system.enableActivityEagerExecution=true');
    expect([...DEV_SERVER_DYNAMIC_CONFIG].sort()).toEqual(flags.sort());
    const args = devServerArgs({ dbFile: 'x', port: 1, uiPort: 2, namespace: 'default' }).join(' ');
    for (const flag of flags) expect(args).toContain(`--dynamic-config-value ${flag}`);
  });

  it('when the namespace is not default, then the server creates it', () => {
    expect(devServerArgs({ dbFile: 'x', port: 1, uiPort: 2, namespace: 'shortnotice' })).toEqual(expect.arrayContaining(['--namespace', 'shortnotice']));
  });
});

describe('npm start launcher', () => {
  it('when started and then interrupted, then it prints the links, stops every child and exits 0', async () => {
    const l = launch();
    await l.waitFor('press Ctrl-C to stop.');
    expect(l.output()).toContain('new database');
    expect(l.output()).toContain(`http://localhost:${ports.web}/cancellations/new`);
    expect(l.output()).toContain(`http://localhost:${ports.web}/dev/mailbox`);
    expect(l.output()).toContain(`Temporal Web UI      http://localhost:${ports.ui}`);
    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    await withClient((c) => c.workflow.start('persisted', { taskQueue: 'nobody-polls', workflowId: 'survives-restart' }));
    l.signal('SIGINT');
    expect(await l.exited).toBe(0);
    expect(l.output()).toContain('worker drained');
    expect(l.output()).toMatch(/\[start\] stopped\.\n/);
    for (const p of Object.values(ports)) expect(await portInUse(p)).toBe(false);
  });

  it('when started again, then the workflows of the last run are still there', async () => {
    expect(fs.existsSync(path.join(root, 'var', 'temporal', 'dev.db'))).toBe(true);
    const l = launch();
    await l.waitFor('press Ctrl-C to stop.');
    expect(l.output()).toContain('existing database');
    const described = await withClient((c) => c.workflow.getHandle('survives-restart').describe());
    expect(described.status.name).toBe('RUNNING');
    l.signal('SIGTERM');
    expect(await l.exited).toBe(0);
  });

  it('when a child dies on its own, then the rest are stopped and the exit status is 1', async () => {
    const l = launch({ FIXTURE_WORKER: 'crash' });
    expect(await l.exited).toBe(1);
    expect(l.output()).toContain('worker exited unexpectedly (exit code 3); stopping the rest.');
    expect(await portInUse(ports.temporal)).toBe(false);
  });

  it('when the web port is taken, then it names the port and exits 1 without starting anything', async () => {
    const blocker = net.createServer().listen(ports.web, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const l = launch();
      expect(await l.exited).toBe(1);
      expect(l.output()).toContain(`port ${ports.web} (web app, from PORT) is already in use`);
      expect(l.output()).not.toContain('starting Temporal dev server');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
