/** The audit log view: the newest write actions of every instance of the console. */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html, type SafeHtml } from '../html.js';
import { errorBox, note, page, when } from '../layout.js';
import { pageContext, sendPage } from '../respond.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';

export function registerAuditRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/audit', async (request, reply) => {
    let body: SafeHtml;
    try {
      const entries = await within(ctx.audit.recent(200), PAGE_BUDGET_MS, 'audit log');
      body = html`${note(`Stream ${ctx.audit.key}: each action is recorded before it runs (a failure adds a second entry). Newest first.`)}
<table class="grid" data-testid="audit"><thead><tr><th>when</th><th>who</th><th>role</th><th>from</th><th>action</th><th>target</th><th>detail</th><th>result</th></tr></thead>
<tbody>${entries.map(
        (e) =>
          html`<tr><td>${when(e.at)}</td><td>${e.who}</td><td>${e.role}</td><td>${e.ip}</td><td>${e.action}</td><td><code>${e.target}</code></td><td>${e.detail}</td><td>${e.result}</td></tr>`,
      )}</tbody></table>`;
    } catch (error) {
      body = errorBox('The audit log could not be read', error);
    }
    return sendPage(reply, page('Audit log', '/audit', pageContext(request, reply), body));
  });
}
