import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard's files (internal/serve/dashboard/): plain HTML, CSS and browser ES modules, no
 * build step. `/` is the page; `/dashboard/<file>` is any script or style sheet in the folder itself;
 * `/dashboard/vendor/<file>` a browser library from node_modules (VENDOR), so nothing comes from a CDN.
 */
const TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** A script or style sheet named in the folder: no separator, no leading dot, so nothing outside it. */
const ASSET = /^[a-z0-9][a-z0-9-]*\.(js|css)$/;

/**
 * Browser libraries served from their npm package (a production dependency, so the image has
 * it): the URL's name, the package, and its self-contained ES module build.
 */
const VENDOR: Readonly<Record<string, { readonly pkg: string; readonly file: string }>> = {
  'lightweight-charts.js': {
    pkg: 'lightweight-charts',
    file: 'dist/lightweight-charts.standalone.production.mjs',
  },
};

// Everything comes from this origin: the page works without internet and loads nothing else.
const CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'";

interface VendorFile {
  readonly content: Buffer;
  readonly etag: string;
}

/** A vendor file's bytes and an ETag from the package's version: read once, they change only with the install. */
async function readVendor(name: string): Promise<VendorFile | undefined> {
  const entry = VENDOR[name];
  if (entry === undefined) return undefined;
  const require = createRequire(import.meta.url);
  const manifest = require.resolve(`${entry.pkg}/package.json`);
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  const content = await readFile(join(dirname(manifest), entry.file));
  return { content, etag: `"${entry.pkg}-${version}"` };
}

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

  const vendor = new Map<string, Promise<VendorFile | undefined>>();
  app.get<{ Params: { file: string } }>('/dashboard/vendor/:file', async (req, reply) => {
    const { file } = req.params;
    if (!Object.hasOwn(VENDOR, file)) return reply.callNotFound();
    let loading = vendor.get(file);
    if (loading === undefined) {
      loading = readVendor(file);
      vendor.set(file, loading);
      // A failed read is retried by the next request rather than remembered.
      loading.catch(() => vendor.delete(file));
    }
    let found: VendorFile | undefined;
    try {
      found = await loading;
    } catch (err) {
      req.log.error({ err, file }, 'dashboard library not readable');
      return reply.code(500).type('text/plain').send('dashboard library missing: is node_modules installed?\n');
    }
    if (found === undefined) return reply.callNotFound();
    reply.header('cache-control', 'no-cache').header('etag', found.etag);
    if (req.headers['if-none-match'] === found.etag) return reply.code(304).send();
    return reply.type(TYPES.js as string).send(found.content);
  });
}
