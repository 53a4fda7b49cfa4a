#!/usr/bin/env node
// Independent check of src/crypto: runs webpush_crypto_tool (the module's
// encryption and VAPID code behind a CLI) and verifies its output with
// other implementations — npm http_ece decrypts the bodies, npm jws and
// node:crypto verify the JWTs.  Prints TAP; exits non-zero on any failure.
//
//   WEBPUSH_CRYPTO_TOOL=build/cmake/tools/webpush_crypto_tool \
//       node t/node/crypto_oracle.js

'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const ece = require('http_ece');
const jws = require('jws');

const tool = process.env.WEBPUSH_CRYPTO_TOOL;
if (!tool) {
  console.log('1..0 # SKIP WEBPUSH_CRYPTO_TOOL is not set');
  process.exit(0);
}

let n = 0;
let failed = 0;

function ok(cond, name, diag) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) {
    failed++;
    if (diag !== undefined) {
      for (const line of String(diag).split('\n')) {
        console.log(`# ${line}`);
      }
    }
  }
  return cond;
}

function run(args, input) {
  const r = spawnSync(tool, args, { input: input || Buffer.alloc(0) });
  if (r.error) {
    throw r.error;
  }
  return { status: r.status, stdout: r.stdout.toString(),
           stderr: r.stderr.toString() };
}

function runJson(args, input) {
  const r = run(args, input);
  if (r.status !== 0) {
    throw new Error(`${args[0]} exited ${r.status}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

function b64u(buf) {
  return Buffer.from(buf).toString('base64url');
}

// Payload bytes that are not all one value, so misplaced bytes show.
function payload(size, seed) {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    buf[i] = (i * 131 + seed * 7) & 0xff;
  }
  return buf;
}

// ---- encryption ---------------------------------------------------------

function userAgent(round) {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = crypto.randomBytes(16);
  const pub = ecdh.getPublicKey();
  // Alternate the encodings a stored subscription may use.
  const p256dh = round % 2 ? pub.toString('base64') : b64u(pub);
  const authText = round % 2 ? auth.toString('base64') : b64u(auth);
  const label = round % 2 ? 'standard base64 keys' : 'base64url keys';
  return { ecdh, auth, p256dh, authText, label };
}

function checkAes128gcm(ua, size, pad) {
  const name = `aes128gcm ${size} bytes, pad ${pad}, ${ua.label}`;
  const plain = payload(size, pad);
  let out;
  try {
    out = runJson(['encrypt', '--p256dh', ua.p256dh, '--auth', ua.authText,
                   '--encoding', 'aes128gcm', '--pad', String(pad)], plain);
  } catch (e) {
    return ok(false, name, e.message);
  }

  const body = Buffer.from(out.body, 'base64url');
  const header = `rs=${body.readUInt32BE(16)} idlen=${body[20]}`;
  ok(body.length === 86 + size + 1 + pad + 16 && header === 'rs=4096 idlen=65'
     && out.salt === undefined && out.dh === undefined,
     `${name}: ${body.length}-byte body, 86-byte header`,
     `${body.length} bytes, ${header}, ${JSON.stringify(out)}`);

  let dec;
  try {
    dec = ece.decrypt(body, { version: 'aes128gcm', privateKey: ua.ecdh,
                              authSecret: b64u(ua.auth) });
  } catch (e) {
    return ok(false, `${name}: http_ece decrypts`, e.message);
  }
  return ok(dec.equals(plain), `${name}: http_ece decrypts`,
            `got ${dec.length} bytes, want ${plain.length}`);
}

function checkAesgcm(ua, size, pad) {
  const name = `aesgcm ${size} bytes, pad ${pad}, ${ua.label}`;
  const plain = payload(size, pad + 1);
  let out;
  try {
    out = runJson(['encrypt', '--p256dh', ua.p256dh, '--auth', ua.authText,
                   '--encoding', 'aesgcm', '--pad', String(pad)], plain);
  } catch (e) {
    return ok(false, name, e.message);
  }

  const body = Buffer.from(out.body, 'base64url');
  ok(body.length === 2 + pad + size + 16
     && Buffer.from(out.salt, 'base64url').length === 16
     && Buffer.from(out.dh, 'base64url').length === 65
     && /^[A-Za-z0-9_-]+$/.test(out.salt + out.dh),
     `${name}: ${body.length}-byte body, salt and dh`, JSON.stringify(out));

  let dec;
  try {
    dec = ece.decrypt(body, { version: 'aesgcm', privateKey: ua.ecdh,
                              dh: out.dh, salt: out.salt,
                              authSecret: b64u(ua.auth) });
  } catch (e) {
    return ok(false, `${name}: http_ece decrypts`, e.message);
  }
  return ok(dec.equals(plain), `${name}: http_ece decrypts`,
            `got ${dec.length} bytes, want ${plain.length}`);
}

const sizes128 = [[0, 0], [1, 0], [41, 0], [41, 16], [200, 55], [3993, 0],
                  [1000, 2993], [0, 3993]];
const sizesLegacy = [[0, 0], [1, 0], [41, 0], [41, 16], [200, 55],
                     [4078, 0], [1000, 3078]];

for (let round = 0; round < 2; round++) {
  const ua = userAgent(round);
  for (const [size, pad] of sizes128) {
    checkAes128gcm(ua, size, pad);
  }
  for (const [size, pad] of sizesLegacy) {
    checkAesgcm(ua, size, pad);
  }
}

{
  // Two encryptions of the same message differ (fresh key and salt).
  const ua = userAgent(0);
  const args = ['encrypt', '--p256dh', ua.p256dh, '--auth', ua.authText];
  const a = runJson(args, Buffer.from('x'));
  const b = runJson(args, Buffer.from('x'));
  const ha = Buffer.from(a.body, 'base64url');
  const hb = Buffer.from(b.body, 'base64url');
  ok(!ha.subarray(0, 16).equals(hb.subarray(0, 16))
     && !ha.subarray(21, 86).equals(hb.subarray(21, 86)),
     'fresh salt and ephemeral key per message');

  let r = run(args, payload(3994, 0));
  ok(r.status === 1 && /payload too large: 3994 bytes > 3993/.test(r.stderr),
     'aes128gcm refuses 3994 bytes', `${r.status} ${r.stderr}`);
  r = run(args.concat(['--encoding', 'aesgcm']), payload(4079, 0));
  ok(r.status === 1 && /payload too large: 4079 bytes > 4078/.test(r.stderr),
     'aesgcm refuses 4079 bytes', `${r.status} ${r.stderr}`);

  const bad = Buffer.from(ua.ecdh.getPublicKey());
  bad[64] ^= 1;
  r = run(['encrypt', '--p256dh', b64u(bad), '--auth', ua.authText]);
  ok(r.status === 1 && /p256dh is not on the P-256 curve/.test(r.stderr),
     'off-curve p256dh refused', `${r.status} ${r.stderr}`);
}

// ---- VAPID --------------------------------------------------------------

function spkiPem(k) {
  const pub = Buffer.from(k, 'base64url');
  return crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(pub.subarray(1, 33)),
           y: b64u(pub.subarray(33, 65)) },
    format: 'jwk',
  }).export({ type: 'spki', format: 'pem' });
}

function checkJwt(form, keyPem, expectedK) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webpush-oracle-'));
  const file = path.join(dir, 'vapid.pem');
  fs.writeFileSync(file, keyPem);

  const aud = 'https://updates.push.services.mozilla.com';
  const sub = 'mailto:ops@example.com';
  const now = Math.floor(Date.now() / 1000);
  let out;
  try {
    out = runJson(['jwt', '--key', file, '--aud', aud, '--sub', sub]);
  } catch (e) {
    return ok(false, `jwt (${form} key)`, e.message);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const jwt = out.jwt;
  const k = out.publicKey;
  ok(k === expectedK, `jwt (${form} key): public key matches the key file`,
     `${k} != ${expectedK}`);
  ok(out.authorization === `vapid t=${jwt}, k=${k}`
     && out.webpush_authorization === `WebPush ${jwt}`
     && out.crypto_key === `p256ecdsa=${k}`,
     `jwt (${form} key): header values`, JSON.stringify(out));

  ok(jws.verify(jwt, 'ES256', spkiPem(k)),
     `jwt (${form} key): jws.verify ES256`, jwt);

  const [h, c, s] = jwt.split('.');
  const sig = Buffer.from(s, 'base64url');
  ok(sig.length === 64 && crypto.verify(
       'sha256', Buffer.from(`${h}.${c}`),
       { key: spkiPem(k), dsaEncoding: 'ieee-p1363' }, sig),
     `jwt (${form} key): node:crypto verifies the raw r||s signature`);

  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
  ok(header.typ === 'JWT' && header.alg === 'ES256'
     && Object.keys(header).length === 2,
     `jwt (${form} key): header`, JSON.stringify(header));
  ok(claims.aud === aud && claims.sub === sub
     && Number.isInteger(claims.exp) && claims.exp === out.exp
     && Math.abs(claims.exp - (now + 12 * 3600)) <= 60
     && claims.exp <= now + 24 * 3600,
     `jwt (${form} key): claims aud, sub, exp = now + 12 h`,
     JSON.stringify(claims));

  // The oracle itself rejects a forged token.
  const forged = `${h}.${b64u(Buffer.from(JSON.stringify(
    Object.assign({}, claims, { aud: 'https://evil.example' }))))}.${s}`;
  ok(!jws.verify(forged, 'ES256', spkiPem(k)),
     `jwt (${form} key): a changed claim fails verification`);
}

{
  const { privateKey, publicKey } = crypto.generateKeyPairSync(
    'ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const k = b64u(Buffer.concat([Buffer.from([4]),
                                Buffer.from(jwk.x, 'base64url'),
                                Buffer.from(jwk.y, 'base64url')]));
  checkJwt('PKCS#8', privateKey.export({ type: 'pkcs8', format: 'pem' }), k);
  checkJwt('SEC1', privateKey.export({ type: 'sec1', format: 'pem' }), k);

  const p384 = crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webpush-oracle-'));
  const file = path.join(dir, 'p384.pem');
  fs.writeFileSync(file, p384.privateKey.export({ type: 'pkcs8',
                                                  format: 'pem' }));
  const r = run(['jwt', '--key', file, '--aud', 'https://a.example',
                 '--sub', 'mailto:ops@example.com']);
  fs.rmSync(dir, { recursive: true, force: true });
  ok(r.status === 1 && /not a P-256 key \(curve secp384r1\)/.test(r.stderr),
     'P-384 VAPID key refused', `${r.status} ${r.stderr}`);
}

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
