/**
 * passkey-options: the options of a WebAuthn ceremony, for the browser's
 * navigator.credentials.create() (registration) or .get() (authentication), made by
 * @simplewebauthn/server. The challenge is kept in the tenant's store, single use, for
 * `ttl_seconds`, bound to the user for a registration (and for a username-first sign-in), and
 * its id answered as `passkey_challenge_id` for passkey-verify. A sign-in without a user is
 * usernameless: the browser offers the discoverable credentials (passkeys) it holds for the rp id.
 */
import { generateAuthenticationOptions, generateRegistrationOptions } from '@simplewebauthn/server';
import { isoUint8Array } from '@simplewebauthn/server/helpers';
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import { itemSets } from '../engine/dataflow.js';
import { credentialsOf, readCredential, saveChallenge } from '../passkeys/store.js';
import { relyingParty, RP_SCHEMA } from '../passkeys/relying-party.js';
import { accountsSchema, findAccount } from '../accounts/registry.js';

export default defineValve({
  name: 'passkey-options',
  summary: 'Answer the options of a passkey (WebAuthn) registration or sign-in, with a single-use challenge kept in the store.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['ceremony'],
    properties: {
      ceremony: {
        enum: ['registration', 'authentication'],
        description: 'registration: enrol a passkey for `user`; authentication: sign in with one.',
      },
      user: {
        type: 'string',
        description:
          'Template of the user: for a registration the signed-in user (e.g. {{item.sub}} after token-verify, {{request.login_sub}} in the hosted login), required; for a sign-in a user named first, or empty (the default) for a usernameless sign-in.',
      },
      user_by: { enum: ['id', 'username'], default: 'id', description: 'Which directory key `user` is.' },
      accounts: accountsSchema,
      ...RP_SCHEMA,
      rp_name: {
        type: 'string',
        minLength: 1,
        maxLength: 128,
        description: "The name the browser shows for the relying party. Default: the tenant's display name.",
      },
      ttl_seconds: {
        type: 'integer',
        minimum: 30,
        maximum: 600,
        default: 120,
        description: 'How long the challenge may be answered (once).',
      },
      user_verification: {
        enum: ['required', 'preferred', 'discouraged'],
        default: 'required',
        description: 'Whether the authenticator must verify the user (PIN, fingerprint, face); passkey-verify checks it when required.',
      },
      resident_key: {
        enum: ['required', 'preferred', 'discouraged'],
        default: 'required',
        description: 'Registration: whether the credential must be discoverable (a passkey that signs in without a username).',
      },
      attestation: {
        enum: ['none', 'direct'],
        default: 'none',
        description: 'Registration: ask for the attestation statement (direct), which the amr rule needs to call a key hardware (hwk).',
      },
    },
  },
  create(config, tools) {
    const registration = config.ceremony === 'registration';
    if (registration && config.user === undefined)
      tools.fail('/user', 'a registration needs the user it enrols a passkey for', 'CONFIG_MISSING');
    if (!registration && (config.resident_key !== 'required' || config.attestation !== 'none'))
      tools.fail('', 'resident_key and attestation are options of a registration', 'CONFIG_INVALID');
    const user = config.user === undefined ? null : tools.template(config.user, '/user');
    const directory = tools.services.directory;
    const ttlMs = config.ttl_seconds * 1000;
    return async (ctx) => {
      const rp = { id: config.rp_id ?? relyingParty(ctx, undefined, undefined).id };
      const name = user?.render(ctx.scope()) ?? '';
      const found =
        name === '' ? undefined : (await findAccount(directory, ctx.store, ctx.tenant.id, config.accounts, config.user_by, name))?.user;
      const usable = found !== undefined && found.status !== 'disabled';
      const props = ctx.item().props;
      const uv = config.user_verification;
      if (registration) {
        if (!usable) throw refuse('ACCESS_DENIED', { detail: 'passkey-options: no active user to enrol a passkey for' });
        const existing = await Promise.all(
          (await credentialsOf(ctx.store, found.id)).map((id) => readCredential(ctx.store, id).then((c) => ({ id, c }))),
        );
        const options = await generateRegistrationOptions({
          rpName: config.rp_name ?? ctx.tenant.displayName,
          rpID: rp.id,
          userID: isoUint8Array.fromUTF8String(found.id),
          userName: found.username ?? found.email ?? found.id,
          userDisplayName: found.name ?? found.username ?? found.id,
          timeout: ttlMs,
          attestationType: config.attestation,
          excludeCredentials: existing.flatMap(({ id, c }) => (c ? [{ id, transports: c.record.t }] : [])),
          authenticatorSelection: { residentKey: config.resident_key, userVerification: uv },
          supportedAlgorithmIDs: [-7, -257, -8],
        });
        props.passkey_challenge_id = await saveChallenge(
          ctx.store,
          { c: options.challenge, k: 'registration', u: found.id, uv: uv === 'required' },
          ttlMs,
        );
        props.passkey_options = JSON.stringify(options);
        return;
      }
      // A named user who is unknown gets the options a user without passkeys gets.
      const ids = usable ? await credentialsOf(ctx.store, found.id) : [];
      const known = await Promise.all(ids.map((id) => readCredential(ctx.store, id).then((c) => ({ id, c }))));
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        timeout: ttlMs,
        userVerification: uv,
        allowCredentials: known.flatMap(({ id, c }) => (c ? [{ id, transports: c.record.t }] : [])),
      });
      const bound = name === '' ? '' : usable ? found.id : `unknown:${name}`;
      props.passkey_challenge_id = await saveChallenge(
        ctx.store,
        { c: options.challenge, k: 'authentication', u: bound, uv: uv === 'required' },
        ttlMs,
      );
      props.passkey_options = JSON.stringify(options);
    };
  },
  dataflow: (config) => ({
    sets: itemSets('', ['passkey_challenge_id', 'passkey_options']),
    ...(config.user === undefined
      ? {}
      : { lookups: [{ pointer: '/user', by: config.user_by === 'id' ? ('user.id' as const) : ('user.username' as const) }] }),
  }),
});
