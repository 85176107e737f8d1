/**
 * Preloaded (`--require`) into the benchmark's worker child and, through the execArgv worker
 * threads inherit, into each of the SDK's workflow threads, where the workflows run in V8 heaps
 * of their own that the main thread's `gc()` does not reach. On the benchmark's channel a thread
 * says it is there, and collects its garbage when asked, so memory per case is what live
 * workflows hold. Measurement only: nothing in the product loads it.
 */
'use strict';
const { BroadcastChannel, isMainThread, threadId } = require('node:worker_threads');

const CHANNEL = 'shortnotice-bench-gc';

if (!isMainThread && typeof globalThis.gc === 'function') {
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event) => {
    if (event.data && event.data.type === 'gc') {
      globalThis.gc();
      channel.postMessage({ type: 'collected', threadId, id: event.data.id });
    }
  };
  channel.unref();
  channel.postMessage({ type: 'here', threadId });
}

module.exports = { CHANNEL };
