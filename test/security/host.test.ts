/**
 * S5: the development web app listens on loopback only unless told otherwise, and every request
 * must name a host of PUBLIC_BASE_URL. A DNS-rebinding page (its own name, resolving to
 * 127.0.0.1) reaches the app with that name in Host; it must not get a sign-in form, let alone
 * a session.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { startWebServer } from '../../src/web/main';
import { createApp } from '../../src/web/app';
import { caseView, CASE_ID, csrfFrom, makeDeps, testConfig } from '../web/fakes';

const REBINDING = 'rebind.attacker.example:3000';

/** Plain HTTP GET to host:port, naming `hostHeader`; the status, or the connection error's code. */
function get(host: string, port: number, hostHeader = `${host}:${port}`): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/healthz', headers: { Host: hostHeader }, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  });
}

describe('S5 the development web app and the Host header', () => {
  it('S5 a DNS-rebinding page cannot open the sign-in form, sign in or read a case', async () => {
    const d = makeDeps();
    d.cases.add(caseView());
    const app = createApp(d.deps);
    const agent = request.agent(app);
    const as = { Host: REBINDING, Origin: `http://${REBINDING}`, 'Sec-Fetch-Site': 'same-origin' };

    const form = await agent.get('/auth/sign-in').set({ Host: REBINDING, 'Sec-Fetch-Site': 'none' });
    const signedIn =
      form.status === 200
        ? await agent
            .post('/auth/sign-in')
            .set(as)
            .type('form')
            .send({ _csrf: csrfFrom(form.text), role: 'clinical-lead', ref: 'LEAD7', name: 'Mallory', email: '' })
        : undefined;
    const casePage = await agent.get(`/cancellations/${CASE_ID}`).set({ Host: REBINDING });
    expect({ form: form.status, signIn: signedIn?.status, casePage: casePage.status }).toEqual({
      form: 421,
      signIn: undefined,
      casePage: 421,
    });
    expect(casePage.text).not.toContain('Sam');
  });

  it('S5 the hosts of PUBLIC_BASE_URL are answered, other hosts get 421, and health checks from anywhere still work', async () => {
    const app = createApp(
      makeDeps({ config: testConfig({ PUBLIC_BASE_URL: 'https://shortnotice.example.org', TRUST_PROXY_HOPS: '1' }) })
        .deps,
    );
    await request(app).get('/auth/sign-in').set('Host', 'shortnotice.example.org').expect(200);
    await request(app).get('/auth/sign-in').set('Host', 'SHORTNOTICE.example.org:443').expect(200);
    // Behind the one trusted proxy, the host the visitor asked for is the forwarded one.
    await request(app)
      .get('/auth/sign-in')
      .set({ Host: 'web:3000', 'X-Forwarded-Host': 'shortnotice.example.org' })
      .expect(200);
    await request(app).get('/auth/sign-in').set({ Host: 'web:3000', 'X-Forwarded-Host': 'evil.example' }).expect(421);
    for (const host of ['localhost:3000', '127.0.0.1', 'shortnotice.example.org.evil.example', 'evil.example']) {
      const res = await request(app).get('/auth/sign-in').set('Host', host).expect(421);
      expect(res.text).not.toContain(host);
    }
    await request(app).get('/healthz').set('Host', '10.1.2.3:3000').expect(200);
  });

  it('S5 with a loopback PUBLIC_BASE_URL, any loopback name is answered (localhost, 127.0.0.1, *.localhost)', async () => {
    const app = createApp(makeDeps().deps);
    for (const host of ['localhost:3000', '127.0.0.1:41234', '[::1]:3000', 'shortnotice.localhost'])
      await request(app).get('/auth/sign-in').set('Host', host).expect(200);
  });

  it('S5 outside production the web app listens on 127.0.0.1 unless BIND_ADDRESS says otherwise, so other machines cannot reach it', async () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    expect(config.bindAddress).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'development', BIND_ADDRESS: '0.0.0.0' }).bindAddress).toBe('0.0.0.0');
    expect(() => loadConfig({ BIND_ADDRESS: 'every interface' })).toThrow(/BIND_ADDRESS/);

    const web = await startWebServer({ ...makeDeps().deps, config }, 0, config.bindAddress);
    try {
      expect((web.server.address() as AddressInfo).address).toBe('127.0.0.1');
      expect(await get('127.0.0.1', web.port, `localhost:${web.port}`)).toBe(200);
      // This machine's own addresses on its network interfaces: nothing listens there.
      const external = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      for (const address of external) expect(await get(address, web.port)).toBe('ECONNREFUSED');
    } finally {
      await web.stop();
    }
  });

  it('S5 npm start gives its web app BIND_ADDRESS=127.0.0.1 unless one is set', async () => {
    const { childEnvironment } = await import('../../src/dev/start');
    expect(childEnvironment({ PATH: '/bin' }).BIND_ADDRESS).toBe('127.0.0.1');
    expect(childEnvironment({ PATH: '/bin', BIND_ADDRESS: '0.0.0.0' }).BIND_ADDRESS).toBe('0.0.0.0');
  });
});
