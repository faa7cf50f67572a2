import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard's files (internal/serve/dashboard/): plain HTML, CSS and browser ES modules, no
 * build step. `/` is the page; `/dashboard/<file>` is any script or style sheet in the folder itself.
 */
const TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** A script or style sheet named in the folder: no separator, no leading dot, so nothing outside it. */
const ASSET = /^[a-z0-9][a-z0-9-]*\.(js|css)$/;

// Everything comes from this origin: the page works without internet and loads nothing else.
const CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/**
 * Serves the dashboard from `dir` (default: the dashboard folder beside this module). The files
 * are small and fetched once per page load, so they are read per request: an edit shows on reload.
 */
export function registerDashboard(app: FastifyInstance, dir: URL = new URL('./dashboard/', import.meta.url)): void {
  const send = async (req: FastifyRequest, reply: FastifyReply, file: string, type: string, required: boolean) => {
    let content: Buffer;
    try {
      content = await readFile(new URL(file, dir));
    } catch (err) {
      if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return reply.callNotFound();
      req.log.error({ err, file }, 'dashboard file not readable');
      return reply.code(500).type('text/plain').send('dashboard files missing\n');
    }
    return reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', CSP).send(content);
  };
  app.get('/', (req, reply) => send(req, reply, 'index.html', 'text/html; charset=utf-8', true));
  app.get<{ Params: { file: string } }>('/dashboard/:file', (req, reply) => {
    const { file } = req.params;
    const kind = ASSET.exec(file)?.[1];
    if (kind === undefined) return reply.callNotFound();
    return send(req, reply, file, TYPES[kind] as string, false);
  });
}
