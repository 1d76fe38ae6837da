/**
 * The page shell: navigation, who is logged in, the CSRF token (a hidden
 * field in every form, and a header htmx adds to its requests), and the
 * scripts, all from this origin. No inline script or style anywhere, so the
 * CSP can forbid them.
 */
import { html, type SafeHtml, trusted } from './html.js';

/** Who is looking, and the token their forms carry. */
export interface PageContext {
  user: string | undefined;
  role: 'admin' | 'read-only' | undefined;
  csrfToken: string | undefined;
}

const NAV: ReadonlyArray<[path: string, label: string]> = [
  ['/', 'Overview'],
  ['/keys', 'Keys'],
  ['/tags', 'Tags'],
  ['/sessions', 'Sessions'],
  ['/coordination', 'Coordination'],
  ['/write-behind', 'Write-behind'],
  ['/windows', 'Windows'],
  ['/feed', 'Live feed'],
  ['/audit', 'Audit log'],
];

// htmx: no inline indicator styles (the CSP forbids them), no eval, no scripts from swapped content.
const HTMX_CONFIG = trusted(
  '{&quot;includeIndicatorStyles&quot;:false,&quot;allowEval&quot;:false,&quot;allowScriptTags&quot;:false,&quot;selfRequestsOnly&quot;:true}',
);

/** The hidden CSRF field of a form. */
export function csrfField(ctx: PageContext): SafeHtml {
  return ctx.csrfToken ? html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">` : html``;
}

/** A whole page. `active` is the nav path to highlight. */
export function page(title: string, active: string, ctx: PageContext, body: SafeHtml): SafeHtml {
  const headers = ctx.csrfToken ? JSON.stringify({ 'x-csrf-token': ctx.csrfToken }) : undefined;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${title} · stratacache admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/app.css">
<link rel="stylesheet" href="/static/vendor/uplot-1.6.32.min.css">
<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>
<script src="/static/vendor/uplot-1.6.32.iife.min.js" defer></script>
<script src="/static/app.js" defer></script>
</head>
<body${headers ? html` hx-headers="${headers}"` : ''}>
<header class="top">
  <a class="brand" href="/">stratacache admin</a>
  ${
    ctx.user
      ? html`<nav>${NAV.map(([path, label]) => html`<a href="${path}"${path === active ? html` class="active" aria-current="page"` : ''}>${label}</a>`)}</nav>
  <form class="logout" method="post" action="/logout">${csrfField(ctx)}<span class="who">${ctx.user} (${ctx.role})</span> <button type="submit">Log out</button></form>`
      : ''
  }
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A box that says what went wrong, for pages whose data could not be read. */
export function errorBox(what: string, error: unknown): SafeHtml {
  const code = (error as { code?: string })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return html`<div class="error" role="alert"><strong>${what}</strong><p>${code ? `${code}: ` : ''}${message}</p></div>`;
}

/** A note, for what a view cannot show and why. */
export function note(text: string | SafeHtml): SafeHtml {
  return html`<p class="note">${text}</p>`;
}

/** Milliseconds as a short duration (`1h 2m`, `45s`, `120ms`); `-` for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A time in ms since the epoch, as ISO text; `-` for none, `never` for Infinity. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  if (ms === Number.POSITIVE_INFINITY) return 'never';
  return new Date(ms).toISOString();
}

/** Bytes as a short size. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
