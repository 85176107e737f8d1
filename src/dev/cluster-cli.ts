/**
 * `npm run cluster [-- --fresh] [--temporal-port N] [--ui-port N] [--web-port N]`: the production
 * shape on this machine (see docs/operations.md). Builds the app (npm runs `build` first),
 * provisions the Temporal server, its SQL tool, the Web UI server and Node LTS into the cache,
 * then starts PostgreSQL, the schema job, Temporal with mutual TLS, the namespace and search
 * attribute setup, the read-only Web UI, a mail catcher, two workers and two web apps, printing
 * each step. Ctrl-C stops everything; the data stays in var/cluster for the next run.
 */
import path from 'node:path';
import { cacheDir, formatDuration } from './binaries';
import { provisionCluster } from './cluster-binaries';
import { NativeCluster } from './cluster';
import { portInUse } from './start';

const ROOT = path.resolve(__dirname, '..', '..');
const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

interface Args {
  fresh: boolean;
  temporal: number;
  ui: number;
  web: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { fresh: false, temporal: 7233, ui: 8233, web: 3000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const port = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 65534) {
        process.stderr.write(`${a} takes a port number\n`);
        process.exit(64);
      }
      return n;
    };
    if (a === '--fresh') args.fresh = true;
    else if (a === '--temporal-port') args.temporal = port();
    else if (a === '--ui-port') args.ui = port();
    else if (a === '--web-port') args.web = port();
    else {
      process.stderr.write(
        `Unknown argument ${String(a)}. Usage: npm run cluster -- [--fresh] [--temporal-port N] [--ui-port N] [--web-port N]\n`,
      );
      process.exit(64);
    }
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const wanted: [number, string][] = [
    [args.temporal, 'Temporal gRPC (--temporal-port)'],
    [args.ui, 'Web UI (--ui-port)'],
    [args.web, 'web-1 (--web-port)'],
    [args.web + 1, 'web-2 (--web-port + 1)'],
  ];
  const busy = [];
  for (const [port, what] of wanted) if (await portInUse(port)) busy.push(`${port} (${what})`);
  if (busy.length > 0) {
    say(
      `cannot start: port ${busy.join(', ')} already in use (an \`npm start\` or another cluster?). Stop it or choose other ports.`,
    );
    return 1;
  }
  say(`provisioning into ${cacheDir()} (first run builds the Temporal server: minutes)…`);
  const binaries = await provisionCluster({ log: (l) => say(`  ${l}`) });
  for (const b of binaries.builds) say(`  ${b.what}: ${formatDuration(b.ms)}`);
  const cluster = await NativeCluster.create({
    root: ROOT,
    dir: path.join(ROOT, 'var', 'cluster'),
    binaries,
    fresh: args.fresh,
    ports: { temporal: args.temporal, ui: args.ui, web1: args.web, web2: args.web + 1 },
    settings: {
      OIDC_ISSUER_URL: process.env.OIDC_ISSUER_URL,
      OIDC_CLIENT_ID: process.env.OIDC_CLIENT_ID,
      OIDC_CLIENT_SECRET: process.env.OIDC_CLIENT_SECRET,
      ...(process.env.API_TOKENS ? { API_TOKENS: process.env.API_TOKENS } : {}),
      ...(process.env.STAFF_EMAIL_DOMAINS ? { STAFF_EMAIL_DOMAINS: process.env.STAFF_EMAIL_DOMAINS } : {}),
    },
    log: say,
  });

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      say(`${why}: stopping web apps, workers, UI, Temporal, then PostgreSQL…`);
      await cluster.stop();
      say('stopped; data kept in var/cluster (npm run cluster -- --fresh starts from nothing).');
    })();
    return stopping;
  };
  // `on`, not `once`: a second Ctrl-C while stopping must not kill the launcher half-way.
  const exit = new Promise<number>((resolve) => {
    process.on('SIGINT', () => void stop('SIGINT').then(() => resolve(0)));
    process.on('SIGTERM', () => void stop('SIGTERM').then(() => resolve(0)));
  });

  try {
    await cluster.start();
  } catch (e) {
    say(`failed: ${e instanceof Error ? e.message : String(e)}`);
    await stop('start-up failed');
    return 1;
  }
  const c = cluster.certificates;
  say('ready:');
  say(`  web app (web-1, web-2)   ${cluster.webUrls['web-1']}  ${cluster.webUrls['web-2']}`);
  say(`  JSON API token           cluster:<token>:submit+read in var/cluster/secrets.json (apiToken), unless API_TOKENS is set`);
  say(`  Temporal Web UI          ${cluster.uiUrl} (read-only)`);
  say(
    `  Temporal (mutual TLS)    ${cluster.temporalAddress}; temporal CLI: --address ${cluster.temporalAddress} --tls-ca-path ${c.ca} --tls-cert-path ${c.clientCert} --tls-key-path ${c.clientKey} --tls-server-name ${c.serverName}`,
  );
  say(`  caught mail              ${path.relative(ROOT, cluster.mailDir)}/*.eml`);
  say(`  logs                     var/cluster/logs/<service>.log`);
  if (!process.env.OIDC_ISSUER_URL)
    say(
      '  staff sign-in needs OIDC_ISSUER_URL and OIDC_CLIENT_ID in the environment (production refuses the development sign-in)',
    );
  say('press Ctrl-C to stop.');
  return exit;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`[cluster] failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
