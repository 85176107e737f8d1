/**
 * The Host allow-list. A DNS-rebinding page gets its own name to resolve to this app's address
 * (127.0.0.1 on a developer's machine), and the browser then treats the app as that page's own
 * origin: it can read the sign-in form, its CSRF token and every answer. The name it used is
 * still in the Host header, so anything but a name of PUBLIC_BASE_URL is refused (421) before any
 * route runs.
 *
 * With a loopback PUBLIC_BASE_URL every loopback name is accepted (localhost, *.localhost,
 * 127.0.0.0/8, ::1): names a rebinding page cannot use. Behind TRUST_PROXY_HOPS proxies the
 * name is the one the visitor asked for (X-Forwarded-Host). Health checks are exempt: they carry
 * no data, and an orchestrator calls them by address.
 */
import type { RequestHandler } from 'express';
import { isLoopbackHost } from '../../config';
import type { Logger } from '../../log';

export function hostAllowed(publicBaseUrl: string): (hostname: string) => boolean {
  const own = new URL(publicBaseUrl).hostname.toLowerCase();
  if (isLoopbackHost(own)) return (hostname) => isLoopbackHost(hostname);
  return (hostname) => hostname.toLowerCase().replace(/\.$/, '') === own;
}

export function knownHostsOnly(
  publicBaseUrl: string,
  log: Logger,
  exempt: readonly string[] = ['/healthz'],
): RequestHandler {
  const allowed = hostAllowed(publicBaseUrl);
  return (req, res, next) => {
    // req.hostname drops the port, keeps IPv6 brackets and honours `trust proxy`.
    if (allowed(req.hostname ?? '') || exempt.includes(req.path)) return next();
    log.warn({ event: 'host-refused' }, 'request for a host this service does not answer');
    // The refused name is not echoed: this page must not become a reflection point.
    res
      .status(421)
      .type('text')
      .send(`Misdirected request: this service answers at ${new URL(publicBaseUrl).host} only.`);
  };
}
