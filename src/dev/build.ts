/**
 * Second half of `npm run build`, run from dist/ after tsc: copies what the app reads from disk
 * at run time (views, public assets, email templates) beside the compiled code, and prebundles
 * the workflow code (with the failure converter the encrypted data converter names) into
 * dist/workflow-bundle.js, which the worker loads in production instead of bundling at start-up,
 * and again with the OpenTelemetry workflow interceptors into dist/workflow-bundle-traced.js, which
 * it loads instead when traces are on (OTEL_EXPORTER_OTLP_ENDPOINT). Two bundles, so a worker with
 * traces off runs no tracing code at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { bundleCaseWorkflows, TRACED_WORKFLOW_BUNDLE_PATH, WORKFLOW_BUNDLE_PATH } from '../temporal/worker';

/** Folders of run-time files, relative to the project root; each lands at the same place in dist/. */
export const RUNTIME_ASSETS = ['src/web/views', 'src/web/public', 'src/mail/templates'];

const say = (line: string) => process.stdout.write(`[build] ${line}\n`);

async function main(): Promise<void> {
  const dist = path.dirname(WORKFLOW_BUNDLE_PATH);
  const root = path.dirname(dist);
  for (const dir of RUNTIME_ASSETS) {
    fs.cpSync(path.join(root, dir), path.join(dist, dir), { recursive: true });
    say(`copied ${dir}`);
  }
  for (const [file, traced] of [
    [WORKFLOW_BUNDLE_PATH, false],
    [TRACED_WORKFLOW_BUNDLE_PATH, true],
  ] as const) {
    const started = Date.now();
    // Webpack's module statistics are noise here; warnings and errors still show.
    const bundle = await bundleCaseWorkflows({ logger: new DefaultLogger('WARN'), traced });
    fs.writeFileSync(file, bundle.code);
    const size = Math.round(bundle.code.length / 1024);
    say(`bundled workflows into ${path.relative(root, file)} (${size} KiB, ${Date.now() - started} ms)`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[build] failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
