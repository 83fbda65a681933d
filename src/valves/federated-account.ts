/**
 * federated-account: the local account of an upstream sign-in. Runs in a hosted-login step
 * with `upstream` (the hosted login sets `upstream_idp`, `upstream_sub` and the mapped claims
 * from a verified ID token; a PUT call, whose body anyone writes, is refused). It finds the
 * link (tenant, upstream, upstream sub) in the store; without one it links by email to the
 * directory user of that address when the upstream says `email_verified` and `link_by_email`
 * allows it, else creates the account just in time when `create` allows it. An email that
 * matches a directory user but may not be linked is refused (LINK_REFUSED): never a second
 * account for the same address; or, with `prove_local`, asks for proof of that account (a
 * pending link under `link_id`, which the next step's federated-link completes). Sets `sub`
 * on the item, or `link_id` and `link_needed`.
 */
import { randomBytes } from 'node:crypto';
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import {
  accountKey,
  FEDERATED_ID_PREFIX,
  indexLink,
  LINK_ID,
  linkKey,
  PENDING_LINK_MS,
  pendingLinkKey,
  readFederatedAccount,
  type FederatedAccount,
  type PendingLink,
} from '../oidc/federated-accounts.js';
import { UPSTREAM_IDP, UPSTREAM_SUB } from '../oidc/schema.js';

export default defineValve({
  name: 'federated-account',
  summary: 'Resolve (or link by verified email, or create just in time) the local account of a hosted-login upstream sign-in; sets sub.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      create: {
        type: 'boolean',
        default: true,
        description:
          'Create the account just in time (kept in the store with the mapped attributes) at the first sign-in from an upstream.',
      },
      link_by_email: {
        type: 'boolean',
        default: false,
        description:
          'Link the first sign-in to the directory user with the same email, only when the upstream says email_verified is true. Otherwise a matching email is refused (LINK_REFUSED).',
      },
      prove_local: {
        type: 'boolean',
        default: false,
        description:
          'When the email matches a directory user that may not be linked by email (unverified, or link_by_email false): instead of refusing, ask the user to prove that account first. The valve then names no sub but sets link_id (a single-use handle the hosted login carries to the next step, whose pipe runs basic-auth and federated-link) and link_needed "true" (for the next step\'s skip_if).',
      },
      attributes: {
        type: 'array',
        uniqueItems: true,
        maxItems: 32,
        items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$' },
        default: ['email', 'email_verified', 'name'],
        description: 'Request properties kept on a just-in-time account (its claims: email, email_verified, name).',
      },
    },
  },
  dataflow: (config) => ({
    sets: config.prove_local
      ? [
          { place: 'item', name: 'sub', maybe: true },
          { place: 'item', name: LINK_ID, maybe: true },
          { place: 'item', name: 'link_needed', maybe: true },
        ]
      : [{ place: 'item', name: 'sub' }],
  }),
  create(config) {
    return async (ctx) => {
      const upstream = ctx.request[UPSTREAM_IDP];
      const upstreamSub = ctx.request[UPSTREAM_SUB];
      const pool = ctx.loginPool;
      if (pool === undefined || !upstream || !upstreamSub)
        throw refuse('INVALID_REQUEST', {
          erroneousProperties: [UPSTREAM_SUB],
          detail: 'federated-account runs only in a hosted-login step with upstream',
        });
      const link = linkKey(upstream, upstreamSub);
      let id = await ctx.store.get(link);
      if (id === null) {
        const email = ctx.request.email;
        const local = email ? ctx.services.directory.user(ctx.tenant.id, 'email', email) : undefined;
        if (local) {
          if ((!config.link_by_email || ctx.request.email_verified !== 'true') && config.prove_local) {
            // The user proves the local account in the next step; nothing is linked until then.
            const handle = randomBytes(32).toString('base64url');
            const pending: PendingLink = { upstream, upstream_sub: upstreamSub, account: local.id };
            await ctx.store.set(pendingLinkKey(handle), JSON.stringify(pending), PENDING_LINK_MS);
            const props = ctx.item().props;
            props[LINK_ID] = handle;
            props.link_needed = 'true';
            ctx.proved.handles.push(LINK_ID);
            return;
          }
          if (!config.link_by_email || ctx.request.email_verified !== 'true')
            throw refuse('LINK_REFUSED', {
              erroneousProperties: ['email'],
              detail: `upstream ${upstream}: the email matches a local account, which ${config.link_by_email ? 'an unverified email does not link' : 'this pool does not link by email'}`,
            });
          id = local.id;
          if (await ctx.store.compareAndSet(link, null, id))
            await indexLink(ctx.store, id, { upstream, upstream_sub: upstreamSub, how: 'email' }, ctx.clock.now());
          else id = await ctx.store.get(link);
        } else {
          if (!config.create)
            throw refuse('ACCESS_DENIED', { detail: `upstream ${upstream}: no linked account, and this pool creates none` });
          const fresh = FEDERATED_ID_PREFIX + randomBytes(12).toString('base64url');
          const attributes: Record<string, string> = {};
          for (const name of config.attributes) if (ctx.request[name] !== undefined) attributes[name] = ctx.request[name];
          const account: FederatedAccount = { upstream, upstream_sub: upstreamSub, attributes, pools: [pool] };
          await ctx.store.set(accountKey(fresh), JSON.stringify(account));
          // Two first sign-ins at once: one link wins, the other's record is dropped.
          if (await ctx.store.compareAndSet(link, null, fresh)) {
            id = fresh;
            await indexLink(ctx.store, id, { upstream, upstream_sub: upstreamSub, how: 'created' }, ctx.clock.now());
          } else {
            await ctx.store.del(accountKey(fresh));
            id = await ctx.store.get(link);
          }
        }
        if (id === null) throw refuse('ACCESS_DENIED', { detail: `upstream ${upstream}: the link went away while it was made` });
      }
      const account = await readFederatedAccount(ctx.store, id);
      if (account && !account.pools.includes(pool))
        await ctx.store.set(accountKey(id), JSON.stringify({ ...account, pools: [...account.pools, pool] }));
      ctx.item().props.sub = id;
    };
  },
});
