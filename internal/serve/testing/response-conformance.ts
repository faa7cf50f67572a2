import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';

interface Answer {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

interface Operation {
  readonly responses?: Record<
    string,
    { readonly content?: Record<string, { readonly schema?: unknown }>; readonly description?: string }
  >;
}

export interface ResponseConformance {
  /** Every answer so far that the OpenAPI document does not describe: status, media type or body. */
  violations(): Promise<string[]>;
  /** Answers checked so far, by `METHOD route status`. */
  readonly seen: ReadonlySet<string>;
}

/**
 * For tests: records every answer of `app` (call before it is ready) and checks each against the
 * app's own OpenAPI document: its status is documented for the route, and its body (JSON or text)
 * matches that status's schema (JSON Schema 2020-12, as OpenAPI 3.1). Routes the document does
 * not describe (the dashboard's files, unknown paths) are not checked.
 */
export function watchResponses(app: FastifyInstance): ResponseConformance {
  const answers: Answer[] = [];
  const seen = new Set<string>();
  app.addHook('onSend', async (req, reply, payload) => {
    const route = req.routeOptions.url;
    if (route !== undefined && req.method !== 'HEAD' && typeof payload === 'string') {
      const type = String(reply.getHeader('content-type') ?? '').split(';')[0] ?? '';
      answers.push({ method: req.method.toLowerCase(), route, status: reply.statusCode, type, body: payload });
    }
    return payload;
  });
  return {
    seen,
    async violations() {
      await app.ready();
      const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> };
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      ajv.addSchema({ ...doc, $id: 'doc' });
      const found: string[] = [];
      for (const a of answers.splice(0)) {
        const path = a.route.replace(/:(\w+)/g, '{$1}');
        const op = doc.paths[path]?.[a.method];
        const responses = op?.responses ?? {};
        if (!Object.values(responses).some((r) => r.content)) continue;
        const where = `${a.method.toUpperCase()} ${a.route} ${a.status}`;
        seen.add(where);
        const key = String(a.status) in responses ? String(a.status) : 'default';
        const response = responses[key];
        const media = response?.content?.[a.type];
        if (!media?.schema) {
          found.push(`${where} (${a.type}): not in the document`);
          continue;
        }
        const pointer = ['paths', path, a.method, 'responses', key, 'content', a.type, 'schema']
          .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
          .join('/');
        const validate = ajv.getSchema(`doc#/${pointer}`);
        const body = a.type === 'application/json' ? JSON.parse(a.body) : a.body;
        if (validate && !validate(body)) {
          found.push(`${where}: ${ajv.errorsText(validate.errors)}; body ${a.body.slice(0, 300)}`);
        }
      }
      return found;
    },
  };
}
