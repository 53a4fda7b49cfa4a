#!/usr/bin/env node
// Mints a subscription token for webpush_subscription_token_secret the way
// README.md shows it (the same lines, so that the README's formula is the
// one the tests check against the module):
//
//   node mint-subscription-token.js SECRET_FILE GROUP_NAME IDENTIFIER EXPIRY
//
// IDENTIFIER "-" stands for a null identifier (signed as the empty string).
'use strict';

const crypto = require('crypto');
const fs = require('fs');

// --- as in README.md -------------------------------------------------------
function subscriptionToken(secret, name, identifier, expiry) {
  const mac = crypto.createHmac('sha256', secret)
    .update(`${name}\n${identifier ?? ''}\n${expiry}`)
    .digest('base64url');
  return `${expiry}.${mac}`;
}
// ----------------------------------------------------------------------------

const [file, name, identifier, expiry] = process.argv.slice(2);
const secret = Buffer.from(fs.readFileSync(file, 'latin1')
  .replace(/[\r\n]+$/, ''), 'latin1');
process.stdout.write(subscriptionToken(secret, name,
                                       identifier === '-' ? null : identifier,
                                       Number(expiry)) + '\n');
