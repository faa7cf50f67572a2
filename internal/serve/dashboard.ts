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
 * Serves the dashboard from `dir` (default: the dashboard folder beside this module). The files
 * are small and fetched once per page load, so they are read per request: an edit shows on reload.
 */
export function registerDashboard(app: FastifyInstance, dir: URL = new URL('./dashboard/', import.meta.url)): void {
  for (const [path, { file, type }] of Object.entries(FILES)) {
    app.get(path, async (req, reply) => {
      let content: Buffer;
      try {
        content = await readFile(new URL(file, dir));
      } catch (err) {
        req.log.error({ err, file }, 'dashboard file not readable');
        return reply.code(500).type('text/plain').send('dashboard files missing\n');
      }
      return reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', CSP).send(content);
    });
  }
}
