import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

/** The dashboard's files (internal/serve/dashboard/): plain HTML, CSS and JavaScript, no build step. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

// Everything comes from this origin: the page works without internet and loads nothing else.
const CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/**
 * Serves the dashboard from `dir` (default: the dashboard folder beside this module). Files are
 * read on first request and kept; nothing is read when the module loads.
 */
export function registerDashboard(app: FastifyInstance, dir: URL = new URL('./dashboard/', import.meta.url)): void {
  const loaded = new Map<string, Promise<Buffer>>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    app.get(path, async (req, reply) => {
      let body = loaded.get(file);
      if (!body) {
        body = readFile(new URL(file, dir));
        loaded.set(file, body);
        body.catch(() => loaded.delete(file));
      }
      const content = await body.catch((err: unknown) => {
        req.log.error({ err, file }, 'dashboard file not readable');
        return undefined;
      });
      if (content === undefined) return reply.code(500).type('text/plain').send('dashboard files missing\n');
      return reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', CSP).send(content);
    });
  }
}
