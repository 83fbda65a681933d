/**
 * Runs `handler` each time a request of `provider` is given its client (token_auth's
 * loadClient, once the request's parameters are parsed), with that request's context. The
 * provider tells this on the request's own OIDCContext emitter, which exists only once the
 * route runs; its `entity` method is the one place every request passes, so it is wrapped.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

type Entity = (this: { ctx: KoaContextWithOIDC }, key: string, value: unknown) => void;

export function onClientAssigned(provider: Provider, handler: (ctx: KoaContextWithOIDC) => void): void {
  const proto = (provider as unknown as { OIDCContext: { prototype: { entity: Entity } } }).OIDCContext.prototype;
  const entity = proto.entity;
  proto.entity = function entityTold(key, value) {
    entity.call(this, key, value);
    if (key === 'Client') handler(this.ctx);
  };
}

/**
 * The values of `param` that token-endpoint requests of grant `grantType` are presenting right
 * now (from the moment the request has its client until its answer is sent): so that a model's
 * lookup can tell whether it serves such a grant (a refresh in its grace window, a device code
 * being polled) without an AsyncLocalStorage, which on Node 20 turns on promise hooks for the
 * whole process (every promise of every door then costs about three times as much).
 */
export function valuesPresented(provider: Provider, grantType: string, param: string): { has(value: unknown): boolean } {
  const presented = new Map<string, number>();
  onClientAssigned(provider, (ctx) => {
    const value = ctx.oidc?.params?.[param];
    if (ctx.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== grantType || typeof value !== 'string') return;
    presented.set(value, (presented.get(value) ?? 0) + 1);
    ctx.res.once('close', () => {
      const left = (presented.get(value) ?? 1) - 1;
      if (left > 0) presented.set(value, left);
      else presented.delete(value);
    });
  });
  return { has: (value) => typeof value === 'string' && presented.has(value) };
}
