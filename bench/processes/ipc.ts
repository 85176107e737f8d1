/** The messages between the benchmark and its child processes. */
import type { WorkerOptions as SdkWorkerOptions } from '@temporalio/worker';

/** What a worker child is told through BENCH_WORKER. */
export interface WorkerSpec {
  kind: 'case' | 'baseline';
  /** A prebuilt workflow bundle (the parent bundles once for every child). */
  bundlePath: string;
  /** Worker options to try instead of the shipped ones (cache size, concurrency, V8 context). */
  tuning?: Partial<
    Pick<
      SdkWorkerOptions,
      | 'maxCachedWorkflows'
      | 'maxConcurrentWorkflowTaskExecutions'
      | 'maxConcurrentActivityTaskExecutions'
      | 'reuseV8Context'
    >
  >;
}

/** `gc`: collect garbage first, so memory is what live objects hold (costs CPU: ask without it around timed work). */
export type ToWorker = { type: 'stop' } | { type: 'stats'; id: number; gc: boolean };

export type FromChild =
  | { type: 'ready'; port?: number }
  | { type: 'contact'; to: string; at: number }
  | { type: 'stats'; id: number; rss: number; heapUsed: number; cpuMs: number };

export function send(message: FromChild): void {
  process.send?.(message);
}
