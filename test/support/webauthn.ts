/**
 * A software authenticator for tests, from node:crypto: an ES256 key, and the
 * authenticatorData, clientDataJSON and attestationObject ("none") assembled as WebAuthn
 * says, so the valves' answers can be made right, or wrong in one chosen way.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export interface Tamper {
  origin?: string;
  rpId?: string;
  challenge?: string;
  counter?: number;
  userVerified?: boolean;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly cose: Uint8Array;
  counter = 0;

  constructor(
    readonly rpId: string,
    readonly origin: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    const key = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x as string, 'base64url')],
      [-3, Buffer.from(jwk.y as string, 'base64url')],
    ]);
    this.cose = isoCBOR.encode(key);
  }

  get id(): string {
    return b64(this.credentialId);
  }

  private clientData(type: string, options: { challenge: string }, t: Tamper): Buffer {
    return Buffer.from(
      JSON.stringify({ type, challenge: t.challenge ?? options.challenge, origin: t.origin ?? this.origin, crossOrigin: false }),
    );
  }

  private authData(t: Tamper, attested: boolean, counter: number): Buffer {
    const flags = 0x01 | (t.userVerified === false ? 0 : 0x04) | (attested ? 0x40 : 0);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const head = Buffer.concat([sha256(t.rpId ?? this.rpId), Buffer.from([flags]), count]);
    if (!attested) return head;
    const length = Buffer.alloc(2);
    length.writeUInt16BE(this.credentialId.length);
    return Buffer.concat([head, Buffer.alloc(16), length, this.credentialId, Buffer.from(this.cose)]);
  }

  /** The answer to registration options (navigator.credentials.create()), as JSON. */
  register(options: { challenge: string }, t: Tamper = {}): string {
    const clientDataJSON = this.clientData('webauthn.create', options, t);
    const authData = this.authData(t, true, t.counter ?? 0);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]) as never,
    );
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64(clientDataJSON), attestationObject: b64(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    });
  }

  /** The answer to authentication options (navigator.credentials.get()), as JSON; the counter moves on unless `t.counter` says. */
  authenticate(options: { challenge: string }, userId: string, t: Tamper = {}): string {
    const clientDataJSON = this.clientData('webauthn.get', options, t);
    const counter = t.counter ?? (this.counter += 1);
    const authenticatorData = this.authData(t, false, counter);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authenticatorData),
        signature: b64(signature),
        userHandle: isoBase64URL.fromUTF8String(userId),
      },
      clientExtensionResults: {},
    });
  }
}
