/**
 * The workflow interceptors a worker with traces on bundles in (not a workflow: the bundler loads
 * it beside them). Taken from @temporalio/interceptors-opentelemetry, minus its update and query
 * handlers: its handleUpdate wraps each update in a span that completes the update a few
 * microtasks later, after the case has published its search attributes, and a case recorded
 * without traces then fails to replay with them (test/tracing/replay-traced.test.ts shows it).
 * What stays (the run, inbound signals, each activity and signal it sends) replays either way, so
 * traces can be turned on or off while cases are running. Client-side update spans remain.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => {
  const inbound = new OpenTelemetryInboundInterceptor();
  const runAndSignals: WorkflowInboundCallsInterceptor = {
    execute: (input, next) => inbound.execute(input, next),
    handleSignal: (input, next) => inbound.handleSignal(input, next),
  };
  return {
    inbound: [runAndSignals],
    outbound: [new OpenTelemetryOutboundInterceptor()],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
