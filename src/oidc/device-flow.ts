/**
 * The device authorization grant (RFC 8628) for in-store displays and handhelds: a userapp whose
 * directory entry says `device_authorization` asks for a code at /device/auth, shows it, and
 * polls the token endpoint while the user enters it at /device on a phone or till and signs in
 * through the hosted login (the app's pool and steps, as for any sign-in). The pages are the
 * hosted login's (`device.html`, the messages), in the request's language. What oidc-provider 8
 * leaves out is added here:
 * - the device authorization answer says its polling `interval` (5 s, the RFC's default);
 * - an app that did not opt in is `unauthorized_client` there, not `invalid_request`;
 * - a poll sooner than that after the previous one answers `slow_down` (§3.5), and the
 *   interval counts from the latest poll, so a client that keeps hurrying keeps being told.
 */
import { createHash } from 'node:crypto';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Store } from '../store/store.js';
import type { ProviderPages } from './provider-pages.js';
import { DEVICE_CODE_GRANT } from './clients.js';
import { valuesPresented } from './client-assigned.js';

/** Seconds between polls (RFC 8628 §3.2's default), said in every device authorization answer. */
const POLL_INTERVAL_SECONDS = 5;
/** How long a device code and its user code live. */
export const DEVICE_CODE_TTL_SECONDS = 600;

export function deviceFlowFeature(pages: ProviderPages) {
  return {
    enabled: true,
    // Letters that cannot be mistaken for each other, in two groups: easy to read off a display and type.
    charset: 'base-20' as const,
    mask: '****-****',
    userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out?: unknown, err?: Error) {
      ctx.type = 'html';
      ctx.body = pages.deviceInput(ctx, form, err?.name);
    },
    userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client: { clientId: string }, _info: unknown, userCode: string) {
      ctx.type = 'html';
      ctx.body = pages.deviceConfirm(ctx, form, client.clientId, userCode);
    },
    successSource(ctx: KoaContextWithOIDC) {
      ctx.type = 'html';
      ctx.body = pages.deviceDone(ctx);
    },
  };
}

type DeviceFinder = (value: unknown, options?: object) => Promise<unknown>;

/** `anyDeviceClient`: some client of the tenant may use the grant; without one no device code exists, and token calls skip the pacing. */
export function paceDevicePolling(provider: Provider, store: Store, anyDeviceClient: boolean): void {
  const DeviceCode = provider.DeviceCode as unknown as { find: DeviceFinder };
  const find = DeviceCode.find.bind(DeviceCode);
  const polls = anyDeviceClient ? valuesPresented(provider, DEVICE_CODE_GRANT, 'device_code') : { has: () => false };
  // Only the device_code grant looks a device code up at the token endpoint.
  DeviceCode.find = async (value, options) => {
    const code = await find(value, options);
    if (code && polls.has(value) && typeof value === 'string') {
      const key = `oidc-device-poll:${createHash('sha256').update(value).digest('base64url')}`;
      const now = Date.now();
      const last = Number((await store.get(key)) ?? 0);
      await store.set(key, String(now), DEVICE_CODE_TTL_SECONDS * 1000);
      if (now - last < POLL_INTERVAL_SECONDS * 1000) throw new errors.SlowDown();
    }
    return code;
  };
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'device_authorization') return;
    const body = ctx.body as { device_code?: unknown; interval?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (ctx.status === 200 && body?.device_code !== undefined) body.interval = POLL_INTERVAL_SECONDS;
    // RFC 8628 §3.2 answers as RFC 6749 §5.2: an app that did not opt in is unauthorized_client.
    else if (
      body?.error === 'invalid_request' &&
      String(body.error_description).endsWith(`${DEVICE_CODE_GRANT} is not allowed for this client`)
    )
      body.error = 'unauthorized_client';
  });
}
