/**
 * Debian's Prometheus (package `prometheus`, which .ci/run installs): the server binary and
 * promtool. PROMETHEUS_PATH and PROMTOOL_PATH point elsewhere; a missing binary fails the test with
 * the way to install it, never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/binaries';

export function prometheusBinary(name: 'prometheus' | 'promtool'): string {
  const override = name === 'prometheus' ? process.env.PROMETHEUS_PATH : process.env.PROMTOOL_PATH;
  const file = override ?? `/usr/bin/${name}`;
  if (!fs.existsSync(file))
    throw new Error(
      `${file} not found: install Debian's prometheus package (apt-get install -y prometheus), or set ${name === 'prometheus' ? 'PROMETHEUS_PATH' : 'PROMTOOL_PATH'}`,
    );
  return file;
}

export interface AlertState {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

export interface PrometheusServer {
  url: string;
  /** Alerts pending or firing now (GET /api/v1/alerts). */
  alerts(): Promise<AlertState[]>;
  /** Runs an instant query; rejects with Prometheus's error (a parse error, say). */
  query(expr: string): Promise<unknown[]>;
  /** The output so far, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real Prometheus server on a free loopback port with its own temporary folder: `config`
 * is the prometheus.yml text (the rule files it names are copied beside it from `files`).
 */
export async function startPrometheus(config: string, files: Record<string, string>): Promise<PrometheusServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-prometheus-'));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  const child: ChildProcess = spawn(
    prometheusBinary('prometheus'),
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Debian's build looks for its console templates under /etc; none are needed here.
      `--web.console.templates=${dir}`,
      `--web.console.libraries=${dir}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not start:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${url}${p}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${p}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    alerts: async () => (await api<{ alerts: AlertState[] }>('/api/v1/alerts')).alerts,
    query: async (expr) => (await api<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    output: () => out,
    stop,
  };
}
