// End-to-end tests of the mail notifier: the real custos binary delivers its outbox to a real
// SMTP server (test_server.js) started on loopback by the test.
// Usage: node mail_delivery_test.js CUSTOS_BINARY SOURCE_DIR CASE
'use strict';

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { startTestServer, parseMessage, decodeWords } = require('./test_server');

const [custos, sourceDir, caseName] = process.argv.slice(2);
const run = promisify(execFile);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-mail-'));
const data = path.join(work, 'data');
// ProtectUK's policy names a DPO with an e-mail address and has direct-marketing purposes.
const policy = path.join(sourceDir, 'policies/protectuk.yaml');
const PASSWORD = 'correct horse battery staple';

async function cli(args, { env = {}, ok = true } = {}) {
  try {
    const { stdout, stderr } = await run(custos, ['--data', data, ...args],
                                         { env: { ...process.env, ...env } });
    if (!ok) assert.fail(`custos ${args.join(' ')} succeeded; expected a failure`);
    return { stdout, stderr, code: 0 };
  } catch (e) {
    if (ok || e.code === undefined) throw e;
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

// A self-signed certificate for 127.0.0.1 and localhost, made by the test.
async function selfSignedCertificate() {
  const key = path.join(work, 'key.pem'), cert = path.join(work, 'cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
                        '-out', cert, '-days', '1', '-subj', '/CN=localhost',
                        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8'), certFile: cert };
}

// The mail configuration file, with the password in its own file (never on a command line).
function mailConfig(extra = []) {
  const passwordFile = path.join(work, 'smtp-password');
  fs.writeFileSync(passwordFile, PASSWORD + '\n', { mode: 0o600 });
  const file = path.join(work, 'mail.conf');
  fs.writeFileSync(file, ['# test mail configuration', 'from = privacy@protectuk.example',
                          'user = custos-mailer', `password_file = ${passwordFile}`,
                          'unsubscribe_url = https://protectuk.example/unsubscribe',
                          ...extra, ''].join('\n'));
  return file;
}

async function init(serverUrl) {
  await cli(['init', '--policy', policy]);
  await cli(['endpoint', 'set', 'requester', serverUrl]);
}

async function openRequest(type, email, extra = []) {
  const { stdout } = await cli(['request', 'open', type, '--email', email, ...extra]);
  return stdout.trim().split(' ')[0];
}

async function deliver(config, now) {
  const args = now ? ['--now', now, 'outbox', 'deliver', '--mail', config]
                   : ['outbox', 'deliver', '--mail', config];
  return cli(args);
}

async function outboxList() {
  return (await cli(['outbox', 'list'])).stdout;
}

function later(minutes) {
  return new Date(Date.now() + minutes * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
}

const cases = {
  // A code sent over STARTTLS with AUTH arrives with the right headers and parts, and the code in
  // it verifies the request; no address or code is printed by the delivery. Every message names
  // the organisation, its DPO and the regulator (seed 002_4d78ac5d7017d3c4.txt: "You can also
  // complain to the ICO if you are unhappy with how we have used your data.").
  async arrives_over_starttls_and_its_code_verifies() {
    const tls = await selfSignedCertificate();
    const server = await startTestServer({ tls: 'starttls', key: tls.key, cert: tls.cert,
                                           user: 'custos-mailer', password: PASSWORD });
    try {
      await init(`smtp://127.0.0.1:${server.port}`);
      const config = mailConfig([`ca_file = ${tls.certFile}`]);
      const request = await openRequest('access', 'ana.person@example.org');
      const sent = await deliver(config);
      assert.match(sent.stdout, /requester delivered/);
      assert.match(sent.stdout, /claimed 1, delivered 1, failed 0, dead 0/);
      assert.doesNotMatch(sent.stdout + sent.stderr, /ana\.person|example\.org/);

      assert.equal(server.messages.length, 1);
      const got = server.messages[0];
      assert.equal(got.secure, true, 'STARTTLS offered, so the session is TLS');
      assert.equal(got.user, 'custos-mailer');
      assert.equal(server.auths[0].secure, true, 'AUTH only after TLS');
      assert.equal(got.mailFrom, 'privacy@protectuk.example');
      assert.deepEqual(got.rcptTo, ['ana.person@example.org']);

      const m = parseMessage(got.raw);
      assert.equal(m.headers.from[0], '"ProtectUK" <privacy@protectuk.example>');
      assert.equal(m.headers.to[0], '<ana.person@example.org>');
      assert.equal(m.headers.subject[0], 'Your code to confirm your request');
      assert.match(m.headers.date[0], /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
      assert.match(m.headers['message-id'][0], /^<custos\.\d+\.[0-9a-f]{24}@protectuk\.example>$/);
      assert.equal(m.headers['mime-version'][0], '1.0');
      assert.match(m.headers['content-type'][0], /^multipart\/alternative; boundary="/);
      assert.equal(m.headers['list-unsubscribe'], undefined, 'an access request is not marketing');
      assert.equal(m.parts.length, 2);
      assert.equal(m.parts[0].type, 'text/plain; charset=UTF-8');
      assert.equal(m.parts[1].type, 'text/html; charset=UTF-8');
      assert.ok(m.closed, 'the multipart ends with its closing delimiter');
      for (const part of m.parts) {
        // The organisation's contact details, its DPO, the regulator and the notice link.
        assert.match(part.text, /ProtectUK/);
        assert.match(part.text, /DataProtection_FreedomofInformationOfficer@met\.police\.uk/);
        assert.match(part.text, /Information Commissioner/);
        assert.match(part.text, /https:\/\/\S*protectuk/);
        assert.ok(part.text.includes(request), 'the request reference');
      }
      assert.match(m.parts[1].text, /^<!DOCTYPE html>/);
      const code = /enter this code: (\S+?)\./.exec(m.parts[0].text)[1];
      assert.ok(m.parts[1].text.includes(code));

      const before = await cli(['request', 'show', request, '--field', 'state']);
      assert.equal(before.stdout.trim(), 'verifying_identity');
      const wrong = code.slice(0, -1) + (code.endsWith('0') ? '1' : '0');
      await cli(['request', 'verify', request, wrong], { ok: false });
      const verified = await cli(['request', 'verify', request, code]);
      assert.match(verified.stderr, /requester secret: /);
      const after = await cli(['request', 'show', request, '--field', 'state']);
      assert.notEqual(after.stdout.trim(), 'verifying_identity');
      assert.match(await outboxList(), /requester delivered attempts 1/);
    } finally {
      await server.close();
    }
  },

  // smtps:// speaks TLS from the first byte (implicit TLS).
  async implicit_tls() {
    const tls = await selfSignedCertificate();
    const server = await startTestServer({ tls: 'implicit', key: tls.key, cert: tls.cert,
                                           user: 'custos-mailer', password: PASSWORD });
    try {
      await init(`smtps://localhost:${server.port}`);
      await openRequest('access', 'ben@example.org');
      const sent = await deliver(mailConfig([`ca_file = ${tls.certFile}`]));
      assert.match(sent.stdout, /delivered 1/);
      assert.equal(server.messages.length, 1);
      assert.equal(server.messages[0].secure, true);
    } finally {
      await server.close();
    }
  },

  // A certificate nobody vouches for is refused: nothing is sent, and the message is retried.
  async untrusted_certificate_is_refused() {
    const tls = await selfSignedCertificate();
    const server = await startTestServer({ tls: 'starttls', key: tls.key, cert: tls.cert,
                                           user: 'custos-mailer', password: PASSWORD });
    try {
      await init(`smtp://localhost:${server.port}`);
      await openRequest('access', 'cat@example.org');
      const sent = await deliver(mailConfig());  // no ca_file: the system's CAs
      assert.match(sent.stdout, /requester pending \(curl: /);
      assert.equal(server.messages.length, 0);
    } finally {
      await server.close();
    }
  },

  // A message about stopping direct marketing carries a one-click unsubscribe (RFC 8058).
  // Seeds: 001_22b79a674f37bc10.txt "You may opt out of receiving marketing by amending your
  // preferences"; 004_f81c814f3e677000.txt "fulfil your request to "unsubscribe" from further
  // messages from us".
  async marketing_message_has_one_click_unsubscribe() {
    const server = await startTestServer({ tls: 'none', user: undefined });
    try {
      await init(`smtp://127.0.0.1:${server.port}`);
      const config = path.join(work, 'plain.conf');
      fs.writeFileSync(config, 'from = privacy@protectuk.example\n' +
                               'unsubscribe_url = https://protectuk.example/unsubscribe\n');
      const request = await openRequest('objection', 'dee@example.org',
                                        ['--purpose', 'direct_marketing']);
      await deliver(config);
      assert.equal(server.messages.length, 1);
      assert.equal(server.messages[0].secure, false, 'no STARTTLS offered on loopback');
      const m = parseMessage(server.messages[0].raw);
      // The link carries a token signed for this message (m.<request>.<tag>).
      const unsubscribe = m.headers['list-unsubscribe'][0];
      const link = unsubscribe.match(/^<https:\/\/protectuk\.example\/unsubscribe\?token=m\.([^.>]+)\.([0-9a-f]{32})>, /);
      assert.ok(link, unsubscribe);
      assert.equal(link[1], request);
      assert.ok(unsubscribe.endsWith(
          '<mailto:DataProtection_FreedomofInformationOfficer@met.police.uk?subject=unsubscribe>'));
      assert.equal(m.headers['list-unsubscribe-post'][0], 'List-Unsubscribe=One-Click');
    } finally {
      await server.close();
    }
  },

  // The organisation's own templates replace the ones written from the policy; non-ASCII text
  // travels as UTF-8 and a bad template is refused at its line.
  async organisation_templates_override_the_defaults() {
    const server = await startTestServer({ tls: 'none' });
    try {
      await init(`smtp://127.0.0.1:${server.port}`);
      const dir = path.join(work, 'templates');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'message.txt'),
                       'Grüße von {{organisation}}\n{{body}}\nNotice: {{notice_link}}\n');
      const config = path.join(work, 'templates.conf');
      fs.writeFileSync(config, `from = privacy@protectuk.example\ntemplates = ${dir}\n`);
      await openRequest('access', 'eve@example.org');
      await deliver(config);
      const m = parseMessage(server.messages[0].raw);
      assert.match(m.parts[0].text, /^Grüße von ProtectUK\r\n/);
      assert.match(m.parts[1].text, /^<!DOCTYPE html>/, 'the HTML part stays the default');

      fs.writeFileSync(path.join(dir, 'message.txt'), 'Hello\n{{first_name}}\n');
      const refused = await cli(['outbox', 'deliver', '--mail', config], { ok: false });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /message\.txt:2: unknown placeholder \{\{first_name\}\}/);
    } finally {
      await server.close();
    }
  },

  // `custos serve --mail FILE` delivers by itself (its delivery schedule), and its log names
  // outbox ids and outcomes, never the address, the code or the message.
  async serve_delivers_by_mail_and_logs_no_personal_data() {
    const server = await startTestServer({ tls: 'none' });
    let serve;
    try {
      await init(`smtp://127.0.0.1:${server.port}`);
      const request = await openRequest('access', 'ivy.private@example.org');
      const { spawn } = require('node:child_process');
      let log = '';
      serve = spawn(custos, ['serve', '--data', data, '--listen', '127.0.0.1:0',
                             '--sweep-every', '0', '--refresh-every', '0',
                             '--deliver-every', '0.2', '--mail', mailConfig()]);
      serve.stdout.on('data', (chunk) => { log += chunk; });
      serve.stderr.on('data', (chunk) => { log += chunk; });
      // Bounded wait: the first pass runs at start; 20 s is far beyond it on a loaded machine.
      for (let i = 0; i < 200 && server.messages.length === 0; ++i) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(server.messages.length, 1, 'the server e-mailed the code');
      const code = /enter this code: (\S+?)\./.exec(
          parseMessage(server.messages[0].raw).parts[0].text)[1];
      serve.kill('SIGTERM');
      await new Promise((resolve) => serve.on('exit', resolve));
      serve = undefined;
      assert.match(log, /listening on/);
      assert.doesNotMatch(log, /ivy\.private|example\.org/);
      assert.ok(!log.includes(code), 'the code is never logged');
      await cli(['request', 'verify', request, code]);
    } finally {
      if (serve) serve.kill('SIGKILL');
      await server.close();
    }
  },

  // A 5xx is permanent: the message is dead at once, visible in the outbox, never tried again.
  async permanent_failure_is_not_retried() {
    const server = await startTestServer({ tls: 'none', rejectRcpt: 550 });
    try {
      await init(`smtp://127.0.0.1:${server.port}`);
      await openRequest('access', 'fay@example.org');
      const sent = await deliver(mailConfig());
      assert.match(sent.stdout, /requester dead \(permanent: smtp 550\)/);
      assert.match(sent.stdout, /dead 1/);
      assert.doesNotMatch(sent.stdout + sent.stderr, /fay@/);
      assert.match(await outboxList(), /requester dead attempts 1 \(permanent: smtp 550\)/);
      const again = await deliver(mailConfig(), later(60 * 24 * 3));
      assert.match(again.stdout, /claimed 0/);
      assert.equal(server.rcptAttempts.length, 1, 'one attempt, never retried');
      assert.equal(server.messages.length, 0);
    } finally {
      await server.close();
    }
  },

  // A 4xx is temporary: retried after the outbox's backoff (1 minute), then delivered.
  async temporary_failure_is_retried() {
    const server = await startTestServer({ tls: 'none', rejectRcpt: 451, rejectTimes: 1 });
    try {
      await init(`smtp://127.0.0.1:${server.port}`);
      await openRequest('access', 'gil@example.org');
      const first = await deliver(mailConfig());
      assert.match(first.stdout, /requester pending \(smtp 451\)/);
      assert.match(await outboxList(), /requester pending attempts 1 \(smtp 451\)/);
      const tooSoon = await deliver(mailConfig());
      assert.match(tooSoon.stdout, /claimed 0/, 'not before its backoff');
      const retried = await deliver(mailConfig(), later(2));
      assert.match(retried.stdout, /requester delivered/);
      assert.equal(server.rcptAttempts.length, 2);
      assert.equal(server.messages.length, 1);
      assert.match(await outboxList(), /requester delivered attempts 2/);
    } finally {
      await server.close();
    }
  },

  // Credentials never on the command line: a `password` key in the file is refused, the
  // password comes from the environment, and a refused login is retried (the operator fixes the
  // configuration), never a permanent failure of the message.
  async credentials_from_the_environment() {
    const tls = await selfSignedCertificate();
    const server = await startTestServer({ tls: 'starttls', key: tls.key, cert: tls.cert,
                                           user: 'custos-mailer', password: PASSWORD });
    try {
      await init(`smtp://localhost:${server.port}`);
      // Only the requester's messages go by e-mail, and a mail server takes no secret.
      const notRequester = await cli(['endpoint', 'set', 'controller',
                                      `smtp://localhost:${server.port}`], { ok: false });
      assert.match(notRequester.stderr, /only the requester's messages go by e-mail/);
      await cli(['endpoint', 'set', 'requester', `smtp://localhost:${server.port}`,
                 '--secret', 'a-secret-of-16-chars'], { ok: false });
      await cli(['endpoint', 'set', 'requester', 'smtp://u:p@localhost:25'], { ok: false });
      const inline = path.join(work, 'inline.conf');
      fs.writeFileSync(inline, `from = privacy@protectuk.example\npassword = ${PASSWORD}\n`);
      const refused = await cli(['outbox', 'deliver', '--mail', inline], { ok: false });
      assert.match(refused.stderr, /inline\.conf:2: the password is never written here/);
      assert.doesNotMatch(refused.stderr, /horse/);

      const config = path.join(work, 'env.conf');
      fs.writeFileSync(config, 'from = privacy@protectuk.example\nuser = custos-mailer\n' +
                               `ca_file = ${tls.certFile}\n`);
      const missing = await cli(['outbox', 'deliver', '--mail', config],
                                { env: { CUSTOS_SMTP_PASSWORD: '' }, ok: false });
      assert.match(missing.stderr, /no password/);

      await openRequest('access', 'hal@example.org');
      const wrong = await cli(['outbox', 'deliver', '--mail', config],
                              { env: { CUSTOS_SMTP_PASSWORD: 'wrong password' } });
      assert.match(wrong.stdout, /requester pending \(smtp 535 \(login refused\)\)/);
      assert.doesNotMatch(wrong.stdout + wrong.stderr, /wrong password/);
      assert.equal(server.messages.length, 0);
      const right = await cli(['--now', later(2), 'outbox', 'deliver', '--mail', config],
                              { env: { CUSTOS_SMTP_PASSWORD: PASSWORD } });
      assert.match(right.stdout, /requester delivered/);
      assert.equal(server.messages[0].user, 'custos-mailer');
    } finally {
      await server.close();
    }
  },
};

(async () => {
  const test = cases[caseName];
  if (!test) {
    console.error(`unknown case '${caseName}'; cases: ${Object.keys(cases).join(', ')}`);
    process.exit(2);
  }
  try {
    await test();
    console.log(`ok ${caseName}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
