/**
 * The bypass battery from the host, on the real proxy and resolver over real
 * sockets: no class finds a bypass in either mode, and the battery's judge
 * does count one when the policy is not in the way (a client that skips the
 * proxy), so a clean result is not a blind one.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { hostSender, runBattery, type BatterySender } from '../../../../runner/workloads/egress/battery.ts';
import { canonicalHost } from '../../../../sandbox-core/proxy/request-target.ts';

const CLASSES = ['alias', 'fronting', 'exfil', 'fail-open'] as const;

describe('egress-bypass battery (host side)', () => {
  for (const mode of ['tunnel', 'intercept'] as const) {
    it(`${mode}: every generated variant of every class is refused, and the controls are served`, async () => {
      const result = await runBattery({ classes: CLASSES, mode, variants: 80, seed: 42, sender: async ({ proxyPort }) => hostSender(proxyPort) });
      expect(result.armed).toBe(true);
      for (const cls of CLASSES) {
        const outcome = result.byClass[cls]!;
        expect(outcome.attempts, cls).toBeGreaterThan(30);
        expect({ cls, bypasses: outcome.bypasses, examples: outcome.examples }).toEqual({ cls, bypasses: 0, examples: [] });
      }
      expect(result.byClass.alias!.routes).toEqual(mode === 'tunnel' ? { plain: expect.any(Number), connect: expect.any(Number) } : { plain: expect.any(Number), intercept: expect.any(Number) });
      // Every exfil lookup the proxy made is in the audit as a blocked dns.query.
      expect(result.audit.dns).toBeGreaterThanOrEqual(result.byClass.exfil!.attempts);
    }, 120_000);
  }

  it('counts bypasses when nothing stands in the way: a client that goes around the proxy is caught in every class it reaches', async () => {
    const result = await runBattery({
      classes: [...CLASSES, 'host-socket'],
      mode: 'tunnel',
      variants: 30,
      seed: 7,
      sender: async ({ proxyPort }) => ({ ...aroundTheProxy(proxyPort), close: async () => undefined }),
    });
    expect(result.armed).toBe(true);
    expect(result.byClass.alias!.bypasses).toBeGreaterThan(0);
    expect(result.byClass.fronting!.bypasses).toBeGreaterThan(0);
    expect(result.byClass['fail-open']!.bypasses).toBeGreaterThan(0);
    expect(result.byClass.exfil!.bypasses).toBe(result.byClass.exfil!.attempts);
    expect(result.byClass['host-socket']!.bypasses).toBe(result.byClass['host-socket']!.attempts);
  }, 120_000);
});

/**
 * A client with no proxy: each absolute-form request goes straight to the address its host means (the canonical
 * spelling), a CONNECT goes nowhere, and every host socket "connects". The controls still go through the proxy.
 */
function aroundTheProxy(proxyPort: number): BatterySender {
  const honest = hostSender(proxyPort);
  return {
    async sendRaw(list) {
      for (const { id, bytes } of list) {
        if (id.startsWith('control')) {
          await honest.sendRaw([{ id, bytes }]);
          continue;
        }
        // a CONNECT has no proxy to go to; the names it carried are then judged by no one
        const match = /^GET http:\/\/(\[[^\]]+\]|[^/:]+):(\d+)(\/\S*) HTTP\/1\.1\r\n/.exec(bytes);
        if (!match) continue;
        let host: string;
        try {
          host = canonicalHost(match[1]!);
        } catch {
          continue;
        }
        if (!net.isIP(host)) continue; // names need the sandbox resolver: without the proxy, none resolves
        const direct = bytes.replace(match[0], `GET ${match[3]} HTTP/1.1\r\n`);
        await new Promise<void>((resolve) => {
          const socket = net.connect({ host, port: Number(match[2]) }, () => socket.write(direct));
          socket.on('data', () => undefined);
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
          socket.setTimeout(2_000, () => socket.destroy());
        });
      }
    },
    async tryUnix(paths) {
      return paths.map(() => true);
    },
  };
}
