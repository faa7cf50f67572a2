import { context, propagation, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's span while tracing is on. */
    traceSpan: Span | undefined;
  }
}

/**
 * A SERVER span per HTTP request, `<METHOD> <route>`, continuing the caller's W3C context
 * (`traceparent`) when it sends one. Two hooks instead of an instrumentation package: the route
 * pattern and status are all the span needs, and nothing is patched at load time. The path goes
 * in without its query string, so an `api_key` parameter never reaches a span.
 */
export function registerRequestTracing(app: FastifyInstance, tracer: Tracer): void {
  app.decorateRequest('traceSpan', undefined);
  app.addHook('onRequest', async (req) => {
    const parent = propagation.extract(context.active(), req.headers);
    const route = req.routeOptions.url;
    const q = req.url.indexOf('?');
    req.traceSpan = tracer.startSpan(
      route === undefined ? req.method : `${req.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': q < 0 ? req.url : req.url.slice(0, q),
          'url.scheme': req.protocol,
          ...(route === undefined ? {} : { 'http.route': route }),
        },
      },
      parent,
    );
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = req.traceSpan;
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}
