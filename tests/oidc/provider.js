// A real OpenID Connect provider (the certified `oidc-provider` package) for formflow's single
// sign-on tests (tests/web/test_single_sign_on.py). Started by the tests with Node:
//
//   OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, OIDC_POST_LOGOUT_URI,
//   OIDC_ACCOUNTS ({"<sub>": {"email": …, "email_verified": …, "groups": […]}, …})
//
// Sign-in pages are plain forms of this file (no external fonts or scripts): the account is
// chosen by its `sub` in the field #login. Consent is implied for the one client, as an
// organisation's provider does for its own applications. Prints "ready <issuer>" when it
// listens.

import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const clientId = process.env.OIDC_CLIENT_ID;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    post_logout_redirect_uris: [process.env.OIDC_POST_LOGOUT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  scopes: ['openid', 'email', 'groups'],
  cookies: { keys: ['formflow-test-provider-only'] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out?', `${form}<button id="sign-out" type="submit"
          form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
      },
      postLogoutSuccessSource: async (ctx) => { ctx.body = page('Signed out', ''); },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => (accounts[sub] ? {
    accountId: sub,
    claims: async () => ({ sub, ...accounts[sub] }),
  } : undefined),
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email groups');
    await grant.save();
    return grant;
  },
});

const providerCallback = provider.callback();

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const form = await readForm(req);
    const sub = form.get('login') || '';
    if (accounts[sub]) {
      await provider.interactionFinished(req, res, { login: { accountId: sub } },
        { mergeWithLastSubmission: false });
      return;
    }
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(page('Sign in at the test provider', `<form method="post"
    action="/interaction/${escape(details.uid)}"><label for="login">Account</label>
    <input id="login" name="login" required><button id="provider-submit" type="submit">Sign in
    </button></form>`));
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 400;
      res.end(page('Error', escape(error.message)));
    });
    return;
  }
  providerCallback(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
