/**
 * The live invalidation feed over Server-Sent Events: `/feed` shows the
 * recent invalidations the bus heard and `/feed/events` streams new ones
 * (JSON per event; the page writes keys and tags with `textContent`). At
 * most 20 streams are open at once; a comment every 15 s keeps proxies from
 * closing an idle one.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import type { FeedItem } from '../feed-hub.js';
import { html } from '../html.js';
import { note, page, when } from '../layout.js';
import { pageContext, sendPage } from '../respond.js';
import { HttpError } from '../security.js';

const MAX_STREAMS = 20;

function row(item: FeedItem) {
  return html`<tr><td class="time">${when(item.heardAt)}</td><td>${item.namespace}</td><td>${item.op}</td><td>${item.items.map((i) => html`<code>${i}</code> `)}</td><td>${item.local ? 'this console' : item.from}</td></tr>`;
}

export function registerFeedRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/feed', async (request, reply) => {
    const recent = ctx.feed.recent().reverse();
    return sendPage(
      reply,
      page(
        'Live invalidation feed',
        '/feed',
        pageContext(request, reply),
        html`<p>Bus: <strong id="bus-state">${ctx.bus.connected ? 'connected' : 'disconnected'}</strong> · this page: <span id="feed-status" data-testid="feed-status">connecting…</span></p>
${note('Every invalidation any instance publishes on the bus (channel "invalidation"), newest first. Keys arrive as Redis keys. A Cache set sends "delete keys" too: the other instances drop their memory copies and read the new value from Redis.')}
<table class="grid" data-testid="feed"><thead><tr><th>heard at</th><th>namespace</th><th>operation</th><th>items</th><th>from</th></tr></thead>
<tbody id="feed-rows" data-feed="/feed/events">${recent.map(row)}</tbody></table>`,
      ),
    );
  });

  app.get('/feed/events', async (request, reply) => {
    if (ctx.feed.open >= MAX_STREAMS) throw new HttpError(503, 'Too many live feeds are open; close one.');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write(': connected\n\n');
    const send = (item: FeedItem) =>
      res.write(`id: ${item.seq}\nevent: invalidation\ndata: ${JSON.stringify(item)}\n\n`);
    const stop = ctx.feed.listen(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    request.raw.on('close', () => {
      clearInterval(ping);
      stop();
    });
  });
}
