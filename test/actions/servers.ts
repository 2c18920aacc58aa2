/**
 * Tiny local servers the slack and email actions talk to in tests: an HTTP webhook recorder and a minimal
 * SMTP server (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) that records every message. Loopback only.
 */
import type { Socket } from "bun";

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | null;
  body: string;
}

export function startWebhookServer(status = 200): { url: string; requests: RecordedRequest[]; stop(): void } {
  const requests: RecordedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      requests.push({ method: req.method, path: url.pathname, contentType: req.headers.get("content-type"), body: await req.text() });
      return new Response(status === 200 ? "ok" : "invalid_payload", { status });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/services/T000/B000/XXXX`, requests, stop: () => server.stop(true) };
}

export interface SmtpMessage {
  from: string;
  to: string[];
  data: string;
  auth?: { user: string; pass: string };
}

interface SmtpSession {
  buffer: string;
  inData: boolean;
  data: string[];
  from: string;
  to: string[];
  auth?: { user: string; pass: string };
  awaitingAuth: boolean;
}

export function startSmtpServer(): { port: number; messages: SmtpMessage[]; stop(): void } {
  const messages: SmtpMessage[] = [];
  const server = Bun.listen<SmtpSession>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buffer: "", inData: false, data: [], from: "", to: [], awaitingAuth: false };
        socket.write("220 localhost ESMTP lava-test\r\n");
      },
      data(socket, chunk) {
        const s = socket.data;
        s.buffer += chunk.toString("latin1");
        let nl: number;
        while ((nl = s.buffer.indexOf("\r\n")) >= 0) {
          const line = s.buffer.slice(0, nl);
          s.buffer = s.buffer.slice(nl + 2);
          handleLine(socket, line, messages);
        }
      },
    },
  });
  return { port: server.port, messages, stop: () => server.stop(true) };
}

function handleLine(socket: Socket<SmtpSession>, line: string, messages: SmtpMessage[]): void {
  const s = socket.data;
  if (s.inData) {
    if (line === ".") {
      s.inData = false;
      messages.push({ from: s.from, to: s.to, data: s.data.join("\r\n"), auth: s.auth });
      s.data = [];
      s.to = [];
      socket.write("250 2.0.0 queued\r\n");
    } else s.data.push(line.startsWith("..") ? line.slice(1) : line);
    return;
  }
  if (s.awaitingAuth) {
    s.awaitingAuth = false;
    s.auth = decodePlain(line);
    socket.write("235 2.7.0 accepted\r\n");
    return;
  }
  const verb = line.split(" ")[0]!.toUpperCase();
  switch (verb) {
    case "EHLO":
      socket.write("250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n");
      break;
    case "HELO":
      socket.write("250 localhost\r\n");
      break;
    case "AUTH": {
      const [, mech, initial] = line.split(" ");
      if (mech?.toUpperCase() !== "PLAIN") socket.write("504 unsupported\r\n");
      else if (initial) {
        s.auth = decodePlain(initial);
        socket.write("235 2.7.0 accepted\r\n");
      } else {
        s.awaitingAuth = true;
        socket.write("334 \r\n");
      }
      break;
    }
    case "MAIL":
      s.from = /<([^>]*)>/.exec(line)?.[1] ?? "";
      socket.write("250 ok\r\n");
      break;
    case "RCPT":
      s.to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
      socket.write("250 ok\r\n");
      break;
    case "DATA":
      s.inData = true;
      socket.write("354 go ahead\r\n");
      break;
    case "QUIT":
      socket.write("221 bye\r\n");
      socket.end();
      break;
    default:
      socket.write("250 ok\r\n");
  }
}

function decodePlain(b64: string): { user: string; pass: string } {
  const [, user = "", pass = ""] = Buffer.from(b64, "base64").toString("utf8").split("\0");
  return { user, pass };
}
