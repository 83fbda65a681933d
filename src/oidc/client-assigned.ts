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
