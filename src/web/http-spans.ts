/**
 * One server span per HTTP request, the root of a submission's trace (installed only when traces
 * are on). Written here rather than taken from @opentelemetry/instrumentation-http/-express:
 * those patch modules as they load (so they must run before anything imports http or express,
 * which our entry points do not arrange), and they record the request's URL, which for a
 * client's page is their link, a key to it. This records the method, the route pattern
 * (`/c/:token`, never the token) and the status, and nothing a person typed.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { tracer } from '../tracing';

/** The route pattern that answered, or nothing when no route did (a 404, a static file). */
function routeOf(req: Request): string | undefined {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : undefined;
}

export function httpSpans(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // A caller that is itself traced (an integration) passes its trace on in `traceparent`.
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    const active = trace.setSpan(parent, span);
    res.once('finish', () => {
      const route = routeOf(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    // A connection dropped before the answer still ends the span.
    res.once('close', () => {
      if (!res.writableFinished) span.end();
    });
    // Body parsers resume the request from the socket's events: bound, they stay in this trace.
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, next);
  };
}
