/**
 * A pipe that exercises what traces must show: a skipped valve (exec_if), properties added,
 * changed and removed, a secret copied under an innocent name, a nested pipe-call, and a
 * refusal that depends on the input.
 */
export const LOGIN_PIPES = {
  login: {
    valves: [
      { name: 'input-validate', config: { properties: { username: { required: true, max_length: 64 } } } },
      { name: 'property-copy', config: { from: 'request', properties: ['username', 'password'] } },
      { id: 'otp-branch', name: 'refuse', exec_if: { '==': [{ var: 'request.mode' }, 'otp'] }, config: { code: 'OTP_INVALID' } },
      { name: 'property-set', config: { properties: { stage: 'checked', pw_copy: '{{request.password}}' } } },
      { name: 'property-set', config: { properties: { stage: 'final' } } },
      { name: 'property-set', config: { target: 'session', properties: { seen: '{{request.username}}' } } },
      { name: 'property-remove', config: { properties: ['password'] } },
      { name: 'pipe-call', config: { pipe: 'shared' } },
      {
        id: 'deny',
        name: 'refuse',
        skip_if: { '!=': [{ var: 'request.username' }, 'blocked'] },
        config: { code: 'ACCESS_DENIED', message: 'user is blocked' },
      },
    ],
    response: ['username', 'stage', 'group'],
  },
  shared: {
    valves: [{ id: 'set-group', name: 'property-set', config: { properties: { group: 'tills' } } }],
  },
};
