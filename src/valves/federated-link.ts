/**
 * federated-link: completes a link that federated-account left waiting (`prove_local`): the
 * upstream identity's email matched a local account that could not be linked by email, so the
 * user proves that account in the next hosted-login step (its pipe runs basic-auth first, which
 * sets `sub`). This valve takes the pending link by its handle (single use), and links the
 * upstream identity to `sub` only when `sub` is the account the email matched; any other
 * account, or a used or expired handle, is LINK_REFUSED. After it, the next sign-in through
 * that upstream identity finds the link at once. A PUT call carries no handle the hosted login
 * made, so it finds nothing to complete.
 */
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import { indexLink, LINK_ID, linkKey, pendingLinkKey, type PendingLink } from '../oidc/federated-accounts.js';

export default defineValve({
  name: 'federated-link',
  summary:
    "Link the upstream identity federated-account left waiting to the account just proven (the item's sub); refuses any other account.",
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create() {
    return async (ctx) => {
      const handle = ctx.request[LINK_ID];
      const refused = (detail: string) => refuse('LINK_REFUSED', { erroneousProperties: [LINK_ID], detail });
      if (!handle || !/^[A-Za-z0-9_-]{43}$/.test(handle)) throw refused('no pending link handle');
      const sub = ctx.item().props.sub;
      if (!sub) throw refused('no proven account (run basic-auth before federated-link)');
      const text = await ctx.store.take(pendingLinkKey(handle));
      if (text === null) throw refused('the pending link is unknown, used or expired');
      const pending = JSON.parse(text) as PendingLink;
      if (pending.account !== sub) throw refused('the proven account is not the one the upstream email matched');
      const link = linkKey(pending.upstream, pending.upstream_sub);
      if (await ctx.store.compareAndSet(link, null, sub))
        await indexLink(
          ctx.store,
          sub,
          { upstream: pending.upstream, upstream_sub: pending.upstream_sub, how: 'password' },
          ctx.clock.now(),
        );
      else if ((await ctx.store.get(link)) !== sub) throw refused('the upstream identity was linked to another account meanwhile');
    };
  },
});
