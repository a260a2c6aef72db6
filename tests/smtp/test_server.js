// A real SMTP server (the smtp-server package) on loopback, for custos's mail delivery tests.
// It records, for every session, what the client did: whether the connection was TLS, who
// authenticated, every RCPT TO with the answer it got, and each message received in full.
'use strict';

const { SMTPServer } = require('smtp-server');

// options:
//   tls: 'none' | 'starttls' | 'implicit'; key, cert: PEM text when tls is not 'none'
//   user, password: require AUTH with these (only these) credentials
//   rejectRcpt: an SMTP code (e.g. 550, 451) every RCPT TO is answered with...
//   rejectTimes: ...for this many attempts (default: every attempt)
// Returns {port, messages, rcptAttempts, auths, close()}.
async function startTestServer(options = {}) {
  const state = { messages: [], rcptAttempts: [], auths: [] };
  let rejected = 0;
  const tls = options.tls || 'none';
  const server = new SMTPServer({
    secure: tls === 'implicit',
    key: options.key,
    cert: options.cert,
    hideSTARTTLS: tls !== 'starttls',
    disabledCommands: options.user ? [] : ['AUTH'],
    allowInsecureAuth: false,
    authOptional: !options.user,
    logger: false,
    onAuth(auth, session, callback) {
      state.auths.push({ method: auth.method, username: auth.username, secure: session.secure });
      if (auth.username === options.user && auth.password === options.password) {
        return callback(null, { user: auth.username });
      }
      return callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
    },
    onRcptTo(address, session, callback) {
      if (options.rejectRcpt &&
          (options.rejectTimes === undefined || rejected < options.rejectTimes)) {
        rejected += 1;
        state.rcptAttempts.push({ address: address.address, code: options.rejectRcpt });
        const error = new Error(options.rejectRcpt >= 500 ? 'Mailbox unavailable' : 'Try later');
        error.responseCode = options.rejectRcpt;
        return callback(error);
      }
      state.rcptAttempts.push({ address: address.address, code: 250 });
      return callback();
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => {
        state.messages.push({
          secure: session.secure,
          user: session.user || null,
          mailFrom: session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  server.on('error', () => {});  // a client hanging up mid-session is not the test's failure
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.server.address().port,
    ...state,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// Splits a message into its headers (unfolded, names lower-cased; a name seen twice keeps
// both values in order) and its MIME parts, each body decoded from base64 or taken as is.
function parseMessage(raw) {
  const split = (text) => {
    const at = text.indexOf('\r\n\r\n');
    const head = text.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
    const headers = {};
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      (headers[name] = headers[name] || []).push(line.slice(colon + 1).trim());
    }
    return { headers, body: text.slice(at + 4) };
  };
  const top = split(raw);
  const type = (top.headers['content-type'] || [''])[0];
  const boundary = /boundary="([^"]+)"/.exec(type);
  const parts = [];
  if (boundary) {
    const sections = top.body.split('--' + boundary[1]);
    for (const section of sections.slice(1)) {
      if (section.startsWith('--')) break;  // the closing delimiter
      const part = split(section.replace(/^\r\n/, ''));
      const encoding = (part.headers['content-transfer-encoding'] || [''])[0].toLowerCase();
      const text = encoding === 'base64'
        ? Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : part.body;
      parts.push({ type: (part.headers['content-type'] || [''])[0], headers: part.headers, text });
    }
  }
  return { headers: top.headers, parts, closed: top.body.includes('--' + (boundary || [])[1] + '--') };
}

// Decodes RFC 2047 encoded words (B encoding only, which is what custos writes).
function decodeWords(value) {
  return value.replace(/=\?UTF-8\?B\?([^?]*)\?=\s*/gi,
                       (_, b64) => Buffer.from(b64, 'base64').toString('utf8'));
}

module.exports = { startTestServer, parseMessage, decodeWords };
