/*
 * The hosted login's passkey script (passkey-login.ts), loaded by the pages that offer
 * passkeys, with @simplewebauthn/browser's bundle before it (the global SimpleWebAuthnBrowser).
 * Without JavaScript, or without WebAuthn, the passkey part stays hidden and the form works
 * as it is. Options are fetched from the page's own address (a POST with the form's CSRF
 * token); the browser's answer is posted back by the hidden form, so the server answers with a
 * page or a redirect as for any other step.
 */
/* global window, document */
(function () {
  'use strict';
  var box = document.getElementById('passkey');
  var form = document.getElementById('passkey-form');
  var lib = window.SimpleWebAuthnBrowser;
  if (!box || !form || !lib || !lib.browserSupportsWebAuthn()) return;
  var button = document.getElementById('passkey-button');
  var error = document.getElementById('passkey-error');
  box.hidden = false;

  function fail(err) {
    // A newer ceremony (the button) replaced the autofill one: nothing went wrong.
    if (err && err.name === 'AbortError') return;
    error.textContent = box.getAttribute('data-failed');
    error.hidden = false;
  }

  function options(kind, username) {
    var body = new URLSearchParams();
    body.set('csrf', form.elements.csrf.value);
    body.set('passkey', kind);
    if (username !== undefined) body.set('username', username);
    return fetch(form.action, { method: 'POST', body: body, credentials: 'same-origin', headers: { accept: 'application/json' } }).then(
      function (answer) {
        if (!answer.ok) throw new Error('passkey options: ' + answer.status);
        return answer.json();
      },
    );
  }

  function send(kind, challengeId, answer) {
    form.elements.passkey.value = kind;
    form.elements.passkey_challenge_id.value = challengeId;
    form.elements.passkey_response.value = JSON.stringify(answer);
    form.submit();
  }

  if (box.getAttribute('data-mode') === 'enrol') {
    button.addEventListener('click', function () {
      error.hidden = true;
      options('enrol_options')
        .then(function (o) {
          return lib.startRegistration({ optionsJSON: o.options }).then(function (answer) {
            send('enrol', o.challenge_id, answer);
          });
        })
        .catch(fail);
    });
    return;
  }

  // Username first when one is typed (its passkeys only), else usernameless.
  var username = document.querySelector('input[autocomplete~="webauthn"]');
  button.addEventListener('click', function () {
    error.hidden = true;
    options('options', username ? username.value : '')
      .then(function (o) {
        return lib.startAuthentication({ optionsJSON: o.options }).then(function (answer) {
          send('sign_in', o.challenge_id, answer);
        });
      })
      .catch(fail);
  });
  // Conditional UI: the browser's autofill of the username field offers the passkeys it holds.
  if (username)
    lib
      .browserSupportsWebAuthnAutofill()
      .then(function (supported) {
        if (!supported) return undefined;
        return options('options', '').then(function (o) {
          return lib.startAuthentication({ optionsJSON: o.options, useBrowserAutofill: true }).then(function (answer) {
            send('sign_in', o.challenge_id, answer);
          });
        });
      })
      .catch(fail);
})();
