/**
 * Windowed aggregates. The streams package (`@stratacache/streams`) that
 * writes them is not part of this repository yet, so there is nothing to
 * chart: the view says so rather than guess at a key layout.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html } from '../html.js';
import { page } from '../layout.js';
import { pageContext, sendPage } from '../respond.js';

export function registerWindowRoutes(app: FastifyInstance, _ctx: AdminContext): void {
  app.get('/windows', async (request, reply) =>
    sendPage(
      reply,
      page(
        'Windows',
        '/windows',
        pageContext(request, reply),
        html`<div class="unavailable" data-testid="windows-unavailable"><p><strong>Not available.</strong> Windowed aggregates are written by <code>@stratacache/streams</code>, which this build of the console does not include (the package is not in this repository yet). Once it is, this page charts its windows.</p></div>`,
      ),
    ),
  );
}
