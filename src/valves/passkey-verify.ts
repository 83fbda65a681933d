/**
 * passkey-verify: checks the browser's answer to a passkey-options challenge with
 * @simplewebauthn/server (verifyRegistrationResponse / verifyAuthenticationResponse) against
 * the challenge taken from the store (single use), the expected origins and the rp id.
 * A registration stores the credential (public key, counter, transports) under the user the
 * challenge was made for; a sign-in checks the credential's owner and moves its counter on
 * atomically, so a replayed or cloned answer is refused. On success `sub` is the user, and
 * the call proves amr `hwk` (an attested single-device key, the user verified) or `swk`.
 */
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import { AuthpipeError, refuse, type RefusalCode } from '../errors.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { itemSets } from '../engine/dataflow.js';
import { addCredential, readCredential, takeChallenge, updateCounter, type ChallengeRecord } from '../passkeys/store.js';
import { relyingParty, RP_SCHEMA } from '../passkeys/relying-party.js';
import { accountsSchema, findAccount } from '../accounts/registry.js';

const RESPONSE = 'passkey_response';
const CHALLENGE = 'passkey_challenge_id';
const MAX_RESPONSE_CHARS = 16_384;

export default defineValve({
  name: 'passkey-verify',
  summary:
    "Verify a passkey (WebAuthn) answer to passkey-options' challenge: store a new credential, or sign in with one (counter checked).",
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['ceremony'],
    properties: {
      ceremony: { enum: ['registration', 'authentication'], description: 'Which answer: of navigator.credentials.create() or .get().' },
      response: {
        type: 'string',
        minLength: 1,
        default: `{{request.${RESPONSE}}}`,
        description:
          "Template of the browser's answer, the PublicKeyCredential as JSON (@simplewebauthn/browser's result, JSON.stringify'd).",
      },
      challenge_id: {
        type: 'string',
        minLength: 1,
        default: `{{request.${CHALLENGE}}}`,
        description: "Template of passkey-options' passkey_challenge_id.",
      },
      user: {
        type: 'string',
        minLength: 1,
        description:
          "Registration: template of the signed-in user id, which must be the one the challenge was made for (e.g. {{item.sub}}). Absent: the challenge's user.",
      },
      ...RP_SCHEMA,
      origins: {
        type: 'array',
        minItems: 1,
        maxItems: 16,
        uniqueItems: true,
        items: { type: 'string', pattern: '^https?://[^/?#\\s]+$' },
        description:
          "Origins the answer may come from (an app's own origin for a third-party page). Default: the origin of the tenant's issuer.",
      },
      accounts: accountsSchema,
      require_user_verification: {
        type: 'boolean',
        default: true,
        description:
          'Refuse an answer whose authenticator did not verify the user (PIN, fingerprint, face): a passkey is then one factor only.',
      },
    },
  },
  create(config, tools) {
    const registration = config.ceremony === 'registration';
    if (!registration && config.user !== undefined)
      tools.fail('/user', 'user is an option of a registration; a sign-in names its user', 'CONFIG_INVALID');
    const response = tools.template(config.response, '/response');
    const challengeId = tools.template(config.challenge_id, '/challenge_id');
    const user = config.user === undefined ? null : tools.template(config.user, '/user');
    const requireUv = config.require_user_verification;

    const no = (code: RefusalCode, property: string, detail: string) =>
      refuse(code, { erroneousProperties: [property], detail: `passkey-verify: ${detail}` });
    /** The library's refusal, by what it checked. */
    const refusalOf = (err: unknown): AuthpipeError => {
      const message = err instanceof Error ? err.message : String(err);
      if (/challenge/i.test(message)) return no('PASSKEY_CHALLENGE_INVALID', RESPONSE, message);
      if (/origin/i.test(message)) return no('PASSKEY_ORIGIN_INVALID', RESPONSE, message);
      if (/RP ?ID/i.test(message)) return no('PASSKEY_RP_ID_INVALID', RESPONSE, message);
      if (/counter/i.test(message)) return no('PASSKEY_REPLAYED', RESPONSE, message);
      return no('PASSKEY_INVALID', RESPONSE, message);
    };

    return async (ctx) => {
      const scope = ctx.scope();
      const text = response.render(scope);
      const id = challengeId.render(scope);
      // The challenge is spent by any answer, good or bad: one try per challenge.
      const challenge = await takeChallenge(ctx.store, id);
      if (!challenge || challenge.k !== config.ceremony)
        throw no('PASSKEY_CHALLENGE_INVALID', CHALLENGE, 'unknown, expired, used, or of the other ceremony');
      let answer: unknown;
      try {
        answer = text.length > MAX_RESPONSE_CHARS ? undefined : JSON.parse(text);
      } catch {
        answer = undefined;
      }
      if (typeof answer !== 'object' || answer === null || typeof (answer as { id?: unknown }).id !== 'string')
        throw no('PASSKEY_INVALID', RESPONSE, 'not a PublicKeyCredential as JSON');
      const rp = relyingParty(ctx, config.rp_id, config.origins);
      const expected = {
        expectedChallenge: challenge.c,
        expectedOrigin: rp.origins,
        expectedRPID: rp.id,
        requireUserVerification: requireUv || challenge.uv === true,
      };
      const props = ctx.item().props;
      if (registration) await register(ctx, answer as RegistrationResponseJSON, challenge, expected);
      else await authenticate(ctx, answer as AuthenticationResponseJSON, challenge, expected);
      props.passkey_credential_id = (answer as { id: string }).id;
    };

    type Expected = { expectedChallenge: string; expectedOrigin: string[]; expectedRPID: string; requireUserVerification: boolean };
    type Ctx = CallContext;

    async function register(ctx: Ctx, answer: RegistrationResponseJSON, challenge: ChallengeRecord, expected: Expected): Promise<void> {
      const signedIn = user?.render(ctx.scope()) ?? challenge.u;
      if (signedIn !== challenge.u) throw no('PASSKEY_CHALLENGE_INVALID', CHALLENGE, 'the challenge was made for another user');
      let verified;
      try {
        verified = await verifyRegistrationResponse({ response: answer, ...expected });
      } catch (err) {
        throw refusalOf(err);
      }
      if (!verified.verified) throw no('PASSKEY_INVALID', RESPONSE, 'the attestation did not verify');
      const info = verified.registrationInfo;
      const hw = info.fmt !== 'none' && info.credentialDeviceType === 'singleDevice';
      const record = {
        v: 1 as const,
        u: challenge.u,
        k: isoBase64URL.fromBuffer(info.credential.publicKey),
        c: info.credential.counter,
        t: info.credential.transports ?? answer.response.transports ?? [],
        hw,
        at: ctx.clock.now(),
      };
      if (!(await addCredential(ctx.store, info.credential.id, record)))
        throw no('PASSKEY_CREDENTIAL_UNKNOWN', RESPONSE, 'the credential is registered already');
      ctx.item().props.sub = challenge.u;
      ctx.proved.amr.push(hw && info.userVerified ? 'hwk' : 'swk');
    }

    async function authenticate(
      ctx: Ctx,
      answer: AuthenticationResponseJSON,
      challenge: ChallengeRecord,
      expected: Expected,
    ): Promise<void> {
      const stored = await readCredential(ctx.store, answer.id);
      // A credential of another account than the one named first is as unknown as one never registered.
      if (!stored || (challenge.u !== '' && stored.record.u !== challenge.u))
        throw no('PASSKEY_CREDENTIAL_UNKNOWN', RESPONSE, 'no such credential for this user');
      const handle = answer.response?.userHandle;
      if (handle !== undefined && handle !== '' && handle !== isoBase64URL.fromBuffer(isoUint8Array.fromUTF8String(stored.record.u)))
        throw no('PASSKEY_CREDENTIAL_UNKNOWN', RESPONSE, 'the user handle names another account');
      let verified;
      try {
        verified = await verifyAuthenticationResponse({
          response: answer,
          ...expected,
          credential: {
            id: answer.id,
            publicKey: isoBase64URL.toBuffer(stored.record.k),
            counter: stored.record.c,
            transports: stored.record.t,
          },
        });
      } catch (err) {
        throw refusalOf(err);
      }
      if (!verified.verified) throw no('PASSKEY_INVALID', RESPONSE, 'the signature did not verify');
      const info = verified.authenticationInfo;
      // An authenticator that keeps no counter answers 0 always (the library allows 0 after 0); any other is moved on once.
      if (info.newCounter !== stored.record.c || info.newCounter > 0) {
        if (!(await updateCounter(ctx.store, answer.id, stored.text, stored.record, info.newCounter)))
          throw no('PASSKEY_REPLAYED', RESPONSE, 'the credential was used meanwhile');
      }
      const user = (await findAccount(ctx.services.directory, ctx.store, ctx.tenant.id, config.accounts, 'id', stored.record.u))?.user;
      if (!user || user.status === 'disabled') throw no('PASSKEY_CREDENTIAL_UNKNOWN', RESPONSE, 'the account is gone or disabled');
      ctx.item().props.sub = stored.record.u;
      ctx.proved.amr.push(stored.record.hw && info.userVerified ? 'hwk' : 'swk');
    }
  },
  dataflow: () => ({ sets: itemSets('', [{ name: 'sub', kind: 'user.id' }, 'passkey_credential_id']) }),
});
