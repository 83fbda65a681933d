/**
 * The checks of the console's sign-in callback, before its code is traded: the answer names
 * the issuer the request went to (RFC 9207 `iss`, which the provider always sends), so a code
 * from another issuer is never sent to ours (mix-up), then it carries the request's `state`.
 */
export function checkCallback(params: URLSearchParams, expected: { state: string; issuer: string }): void {
  if (params.get('iss') !== expected.issuer) throw new Error('sign-in answer is not from the issuer it was sent to (iss)');
  if (params.get('error')) throw new Error(`sign-in refused: ${params.get('error')}`);
  if (params.get('state') !== expected.state) throw new Error('sign-in answer does not match the request (state)');
}
